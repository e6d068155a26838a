package dev.zoetrope.diffusion.pipelines;

import dev.zoetrope.core.Tensor;

/** Classifier-free guidance extras. */
final class Guidance {
    private Guidance() {
    }

    /**
     * diffusers' {@code rescale_noise_cfg} (Lin et al. 2023, "Common Diffusion Noise Schedules and Sample Steps are
     * Flawed", §3.4): per batch entry, {@code rescaled = cfg · std(text)/std(cfg)} and the result
     * {@code φ·rescaled + (1 − φ)·cfg}. std is torch's (unbiased), accumulated in double and rounded to float32 as
     * torch's CPU reduction does; the rest is float32 in diffusers' order.
     *
     * @param cfg  guided prediction [N, …]
     * @param text conditional prediction [N, …]
     * @param phi  guidance_rescale in (0, 1]
     */
    static Tensor rescale(Tensor cfg, Tensor text, double phi) {
        int n = cfg.dim(0);
        int per = (int) (cfg.numel() / n);
        float[] c = cfg.toFloatArray();
        float[] t = text.toFloatArray();
        float[] out = new float[c.length];
        float a = (float) phi;
        float b = (float) (1 - phi);
        for (int i = 0; i < n; i++) {
            float ratio = std(t, i * per, per) / std(c, i * per, per);
            for (int j = i * per; j < (i + 1) * per; j++) {
                float rescaled = c[j] * ratio;
                out[j] = a * rescaled + b * c[j];
            }
        }
        return Tensor.of(out, cfg.shape());
    }

    private static float std(float[] v, int from, int count) {
        double mean = 0;
        for (int i = from; i < from + count; i++) mean += v[i];
        mean /= count;
        double sq = 0;
        for (int i = from; i < from + count; i++) {
            double d = v[i] - mean;
            sq += d * d;
        }
        return (float) Math.sqrt(sq / (count - 1));
    }
}
