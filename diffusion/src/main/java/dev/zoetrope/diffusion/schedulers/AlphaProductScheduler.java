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
