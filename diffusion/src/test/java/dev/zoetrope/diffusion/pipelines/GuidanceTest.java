package dev.zoetrope.diffusion.pipelines;

import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** diffusers' rescale_noise_cfg, checked against the formula evaluated in double. */
class GuidanceTest {
    @Test
    void rescaleMatchesTheFormulaPerBatchEntry() {
        int n = 2, per = 3 * 4 * 5;
        float[] cfg = new float[n * per], text = new float[n * per];
        for (int i = 0; i < cfg.length; i++) {
            cfg[i] = (float) (3 * Math.sin(i * 0.7) + (i < per ? 1 : -2));
            text[i] = (float) (Math.cos(i * 1.3) * (i < per ? 0.5 : 2));
        }
        for (double phi : new double[] {0.3, 0.7, 1.0}) {
            try (Scope s = Scope.open()) {
                float[] out = Guidance.rescale(Tensor.of(cfg, n, 3, 4, 5), Tensor.of(text, n, 3, 4, 5), phi).toFloatArray();
                for (int b = 0; b < n; b++) {
                    double ratio = std(text, b * per, per) / std(cfg, b * per, per);
                    for (int j = b * per; j < (b + 1) * per; j++) {
                        double expected = phi * cfg[j] * ratio + (1 - phi) * cfg[j];
                        assertEquals(expected, out[j], 1e-5 * Math.max(1, Math.abs(expected)), "phi " + phi + " element " + j);
                    }
                    // φ = 1: the guided prediction takes the conditional prediction's standard deviation
                    if (phi == 1.0) assertEquals(std(text, b * per, per), std(out, b * per, per), 1e-5);
                }
            }
        }
    }

    /** torch.std (unbiased) in double. */
    private static double std(float[] v, int from, int count) {
        double mean = 0;
        for (int i = from; i < from + count; i++) mean += v[i];
        mean /= count;
        double sq = 0;
        for (int i = from; i < from + count; i++) sq += (v[i] - mean) * (v[i] - mean);
        return Math.sqrt(sq / (count - 1));
    }
}
