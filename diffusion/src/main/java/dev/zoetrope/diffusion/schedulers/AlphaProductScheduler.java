package dev.zoetrope.diffusion.schedulers;

import dev.zoetrope.core.Tensor;

/**
 * Common ground of the schedulers that work on ᾱ_t directly (DDIM, PNDM): the float32 tables, the final ᾱ
 * used past the last step, and {@code add_noise} = √ᾱ_t·x₀ + √(1 − ᾱ_t)·ε.
 */
abstract class AlphaProductScheduler implements Scheduler {
    protected final SchedulerConfig config;
    /** ᾱ_t for t = 0 … num_train_timesteps − 1, float32. */
    protected final float[] alphasCumprod;
    /** ᾱ used when the previous timestep is negative: 1, or ᾱ_0 when set_alpha_to_one is false. */
    protected final float finalAlphaCumprod;
    protected double[] timesteps = new double[0];
    protected int numInferenceSteps;

    AlphaProductScheduler(SchedulerConfig config, boolean rescaleAllowed) {
        this.config = config;
        this.alphasCumprod = NoiseSchedule.alphasCumprod(config, rescaleAllowed);
        this.finalAlphaCumprod = config.setAlphaToOne() ? 1f : alphasCumprod[0];
    }

    @Override
    public SchedulerConfig config() {
        return config;
    }

    @Override
    public double[] timesteps() {
        return timesteps.clone();
    }

    @Override
    public int numInferenceSteps() {
        return numInferenceSteps;
    }

    @Override
    public float initNoiseSigma() {
        return 1f;
    }

    @Override
    public Tensor scaleModelInput(Tensor sample, double timestep) {
        return sample;
    }

    /** A copy of the ᾱ table. */
    public float[] alphasCumprod() {
        return alphasCumprod.clone();
    }

    public float finalAlphaCumprod() {
        return finalAlphaCumprod;
    }

    protected float alphaProd(int timestep) {
        return alphasCumprod[TensorMath.trainIndex(timestep, alphasCumprod.length)];
    }

    /** ᾱ at the previous timestep, or the final ᾱ when it lies before the start of training time. */
    protected float alphaProdPrev(int prevTimestep) {
        return prevTimestep >= 0 ? alphaProd(prevTimestep) : finalAlphaCumprod;
    }

    protected void requireTimesteps() {
        if (numInferenceSteps == 0) {
            throw new IllegalStateException("number of inference steps is not set: call setTimesteps first");
        }
    }

    /**
     * The n timesteps of diffusers' timestep_spacing in ascending order, as DDIM and PNDM space them: "linspace"
     * {@code round(linspace(0, T − 1, n))}, "leading" {@code arange(n)·(T // n) + steps_offset}, "trailing"
     * {@code round(arange(T, 0, −T/n)) − 1}.
     */
    protected double[] spacedTimesteps(int n) {
        checkSteps(n);
        int trainSteps = config.numTrainTimesteps();
        return switch (config.timestepSpacing()) {
            case LINSPACE -> NumpyCompat.round(NumpyCompat.linspace(0, trainSteps - 1, n));
            case LEADING -> {
                int stepRatio = trainSteps / n;
                double[] t = new double[n];
                for (int i = 0; i < n; i++) t[i] = (double) i * stepRatio + config.stepsOffset();
                yield t;
            }
            case TRAILING -> {
                double[] t = NumpyCompat.round(NumpyCompat.arange(trainSteps, 0, -((double) trainSteps / n)));
                for (int i = 0; i < t.length; i++) t[i] -= 1;
                yield reversed(t);
            }
        };
    }

    protected static double[] reversed(double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[x.length - 1 - i];
        return y;
    }

    protected void checkSteps(int n) {
        if (n < 1) throw new IllegalArgumentException("num_inference_steps must be at least 1, got " + n);
        if (n > config.numTrainTimesteps()) {
            throw new IllegalArgumentException("num_inference_steps " + n + " cannot exceed num_train_timesteps "
                    + config.numTrainTimesteps());
        }
    }

    @Override
    public Tensor addNoise(Tensor original, Tensor noise, double... timesteps) {
        if (timesteps.length == 0) throw new IllegalArgumentException("addNoise needs at least one timestep");
        float[] a = new float[timesteps.length], b = new float[timesteps.length];
        for (int i = 0; i < timesteps.length; i++) {
            float ac = alphasCumprod[TensorMath.trainIndex(timesteps[i], alphasCumprod.length)];
            a[i] = (float) Math.sqrt(ac);
            b[i] = (float) Math.sqrt(1f - ac);
        }
        return TensorMath.combine(a, original, b, noise);
    }
}
