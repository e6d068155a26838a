package dev.zoetrope.diffusion.schedulers;

import dev.zoetrope.diffusion.schedulers.SchedulerConfig.TimestepSpacing;

/**
 * Timestep and sigma tables of the k-diffusion style schedulers (Euler, Euler ancestral, LMS, DPM-Solver), as
 * diffusers builds them with NumPy: float64 arithmetic on float32 inputs, Karras / exponential / Lu spacings,
 * and the log-sigma interpolation that maps a sigma back to a fractional timestep.
 */
final class SigmaTables {
    private SigmaTables() {
    }

    /**
     * The float32 timesteps of Euler, Euler ancestral and LMS for a spacing (descending): linspace over [0,
     * N−1]; leading = round(i·(N//n)) + steps_offset; trailing = round(arange(N, 0, −N/n)) − 1.
     */
    static double[] floatTimesteps(TimestepSpacing spacing, int trainSteps, int n, int stepsOffset) {
        double[] out;
        switch (spacing) {
            case LINSPACE -> {
                double[] asc = NumpyCompat.linspace(0, trainSteps - 1, n);
                out = new double[n];
                for (int i = 0; i < n; i++) out[i] = (float) asc[n - 1 - i];
            }
            case LEADING -> {
                int stepRatio = trainSteps / n;
                out = new double[n];
                for (int i = 0; i < n; i++) out[i] = (float) ((float) ((double) (n - 1 - i) * stepRatio) + (float) stepsOffset);
            }
            case TRAILING -> {
                double[] t = NumpyCompat.round(NumpyCompat.arange(trainSteps, 0, -((double) trainSteps / n)));
                out = new double[t.length];
                for (int i = 0; i < t.length; i++) out[i] = (float) t[i] - 1f;
            }
            default -> throw new IllegalStateException(String.valueOf(spacing));
        }
        return out;
    }

    /** {@code np.log} of a float32 array (result float32). */
    static float[] log(float[] x) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) out[i] = (float) Math.log(x[i]);
        return out;
    }

    /**
     * Karras et al. (2022) spacing: σ_i = (σ_max^{1/ρ} + i/(n−1)·(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ with ρ = 7, in
     * float64.
     */
    static double[] karras(double sigmaMin, double sigmaMax, int n) {
        double rho = 7.0;
        double[] ramp = NumpyCompat.linspace(0, 1, n);
        double minInvRho = Math.pow(sigmaMin, 1 / rho);
        double maxInvRho = Math.pow(sigmaMax, 1 / rho);
        double[] sigmas = new double[n];
        for (int i = 0; i < n; i++) sigmas[i] = Math.pow(maxInvRho + ramp[i] * (minInvRho - maxInvRho), rho);
        return sigmas;
    }

    /** Log-uniform sigmas from σ_max down to σ_min. */
    static double[] exponential(double sigmaMin, double sigmaMax, int n) {
        double[] logs = NumpyCompat.linspace(Math.log(sigmaMax), Math.log(sigmaMin), n);
        double[] sigmas = new double[n];
        for (int i = 0; i < n; i++) sigmas[i] = Math.exp(logs[i]);
        return sigmas;
    }

    /**
     * The fractional training timestep of a sigma: linear interpolation in log σ between the two neighbouring
     * entries of {@code logSigmas} (diffusers' {@code _sigma_to_t}, float64).
     */
    static double sigmaToT(double sigma, float[] logSigmas) {
        double logSigma = Math.log(Math.max(sigma, 1e-10));
        // argmax of cumsum(dists >= 0): the last index whose log sigma is <= log_sigma (0 if none)
        int low = 0;
        for (int i = 0; i < logSigmas.length; i++) if (logSigma - logSigmas[i] >= 0) low = i;
        low = Math.min(low, logSigmas.length - 2);
        int high = low + 1;
        double lo = logSigmas[low], hi = logSigmas[high];
        double w = (lo - logSigma) / (lo - hi);
        w = Math.min(Math.max(w, 0), 1); // np.clip
        return (1 - w) * low + w * high;
    }

    /** The fractional timesteps of a sigma schedule. */
    static double[] timestepsOf(double[] sigmas, float[] logSigmas) {
        double[] t = new double[sigmas.length];
        for (int i = 0; i < t.length; i++) t[i] = sigmaToT(sigmas[i], logSigmas);
        return t;
    }

    /** A configured sigma_min / sigma_max, or the schedule's own end point. */
    static double orDefault(Double configured, double fallback) {
        return configured != null ? configured : fallback;
    }

    /** k-diffusion scale of the model input and of add_noise: √(σ² + 1) in float32. */
    static float inputScale(float sigma) {
        return (float) Math.sqrt(sigma * sigma + 1f);
    }
}
