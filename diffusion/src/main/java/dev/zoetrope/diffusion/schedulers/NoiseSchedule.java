package dev.zoetrope.diffusion.schedulers;

/**
 * The training noise schedule every discrete scheduler starts from — betas, ᾱ (alphas_cumprod) and the
 * k-diffusion sigmas — computed in float32 exactly as diffusers does with torch: {@code torch.linspace} in
 * float32, {@code torch.cumprod} accumulating in double (torch's CPU accumulate type for float) and rounding
 * each product to float32.
 */
public final class NoiseSchedule {
    private NoiseSchedule() {
    }

    /** The betas the config describes (trained_betas, linear, scaled_linear or squaredcos_cap_v2), before any rescale. */
    public static float[] betas(SchedulerConfig config) {
        int n = config.numTrainTimesteps();
        if (config.trainedBetas() != null) {
            double[] trained = config.trainedBetas();
            float[] betas = new float[trained.length];
            for (int i = 0; i < betas.length; i++) betas[i] = (float) trained[i];
            return betas;
        }
        return switch (config.betaSchedule()) {
            case LINEAR -> torchLinspace(config.betaStart(), config.betaEnd(), n);
            case SCALED_LINEAR -> {
                float[] b = torchLinspace(Math.sqrt(config.betaStart()), Math.sqrt(config.betaEnd()), n);
                for (int i = 0; i < n; i++) b[i] = b[i] * b[i];
                yield b;
            }
            case SQUAREDCOS_CAP_V2 -> betasForCosineAlphaBar(n, 0.999);
        };
    }

    /**
     * {@code torch.linspace(start, end, steps, dtype=float32)} on the CPU: start and end rounded to float, step
     * {@code (end − start)/(steps − 1)} in float; the first half counts up from start, the second half down
     * from end. torch's x86 build contracts {@code start + step·i} into a fused multiply-add (checked bit for
     * bit against the fixtures' beta tables), so this uses {@link Math#fma}.
     */
    public static float[] torchLinspace(double start, double end, int steps) {
        float[] out = new float[steps];
        if (steps == 0) return out;
        float s = (float) start, e = (float) end;
        if (steps == 1) {
            out[0] = s;
            return out;
        }
        float step = (e - s) / (float) (steps - 1);
        int halfway = steps / 2;
        for (int i = 0; i < steps; i++) {
            out[i] = i < halfway ? Math.fma(step, (float) i, s) : Math.fma(-step, (float) (steps - i - 1), e);
        }
        return out;
    }

    /**
     * diffusers' {@code betas_for_alpha_bar} with the cosine ᾱ(t) = cos²((t + 0.008)/1.008 · π/2) (Nichol &amp;
     * Dhariwal), computed in Python floats then stored as float32.
     */
    static float[] betasForCosineAlphaBar(int n, double maxBeta) {
        float[] betas = new float[n];
        for (int i = 0; i < n; i++) {
            double t1 = (double) i / n;
            double t2 = (double) (i + 1) / n;
            betas[i] = (float) Math.min(1 - cosineAlphaBar(t2) / cosineAlphaBar(t1), maxBeta);
        }
        return betas;
    }

    private static double cosineAlphaBar(double t) {
        double c = Math.cos((t + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }

    /**
     * "Common Diffusion Noise Schedules and Sample Steps are Flawed" (Lin et al. 2023): shift and scale √ᾱ so
     * that the last step has zero SNR, then recover the betas — float32 tensor arithmetic as diffusers' {@code
     * rescale_zero_terminal_snr}.
     */
    public static float[] rescaleZeroTerminalSnr(float[] betas) {
        int n = betas.length;
        float[] sqrtAlphaBar = cumprod(oneMinus(betas));
        for (int i = 0; i < n; i++) sqrtAlphaBar[i] = (float) Math.sqrt(sqrtAlphaBar[i]);
        float first = sqrtAlphaBar[0];
        float last = sqrtAlphaBar[n - 1];
        float scale = first / (first - last);
        float[] alphaBar = new float[n];
        for (int i = 0; i < n; i++) {
            float shifted = (sqrtAlphaBar[i] - last) * scale;
            alphaBar[i] = shifted * shifted;
        }
        float[] out = new float[n];
        out[0] = 1f - alphaBar[0];
        for (int i = 1; i < n; i++) out[i] = 1f - alphaBar[i] / alphaBar[i - 1];
        return out;
    }

    /** {@code 1.0 − x} elementwise in float32. */
    public static float[] oneMinus(float[] x) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) out[i] = 1f - x[i];
        return out;
    }

    /** {@code torch.cumprod} of a float32 tensor on the CPU: a double running product, each entry rounded to float. */
    public static float[] cumprod(float[] x) {
        float[] out = new float[x.length];
        double acc = 1.0;
        for (int i = 0; i < x.length; i++) {
            acc *= x[i];
            out[i] = (float) acc;
        }
        return out;
    }

    /** The betas after the optional zero-terminal-SNR rescale, then ᾱ = cumprod(1 − β). */
    public static float[] alphasCumprod(SchedulerConfig config, boolean rescaleAllowed) {
        float[] betas = betas(config);
        if (rescaleAllowed && config.rescaleBetasZeroSnr()) betas = rescaleZeroTerminalSnr(betas);
        return cumprod(oneMinus(betas));
    }

    /** k-diffusion sigmas σ_t = √((1 − ᾱ_t)/ᾱ_t), float32 tensor arithmetic, in training-timestep order. */
    public static float[] sigmas(float[] alphasCumprod) {
        float[] out = new float[alphasCumprod.length];
        for (int i = 0; i < out.length; i++) {
            float a = alphasCumprod[i];
            out[i] = (float) Math.sqrt((1f - a) / a);
        }
        return out;
    }
}
