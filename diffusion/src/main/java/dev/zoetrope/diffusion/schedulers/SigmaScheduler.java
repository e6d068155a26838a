package dev.zoetrope.diffusion.schedulers;

import dev.zoetrope.core.Tensor;

import java.util.Arrays;

/**
 * Common ground of the schedulers that walk a table of noise levels σ (Euler, Euler ancestral, LMS,
 * DPM-Solver): the float32 sigma table (one longer than the timesteps), the step counter that starts at the
 * begin index or at the position of the first timestep seen, and the k-diffusion {@code add_noise} x₀ + σ·ε.
 */
abstract class SigmaScheduler implements Scheduler {
    protected final SchedulerConfig config;
    /** ᾱ_t for t = 0 … num_train_timesteps − 1, float32. */
    protected final float[] alphasCumprod;
    protected double[] timesteps = new double[0];
    /** σ for each timestep plus the final one, float32. */
    protected float[] sigmas = new float[0];
    protected int numInferenceSteps;
    protected int stepIndex = -1;
    protected int beginIndex = -1;

    /**
     * @param config         resolved for the subclass's type
     * @param rescaleAllowed whether the class honours rescale_betas_zero_snr; the last ᾱ then becomes 2⁻²⁴
     *                       instead of 0 so that the largest sigma stays finite (as diffusers does)
     */
    SigmaScheduler(SchedulerConfig config, boolean rescaleAllowed) {
        this.config = config;
        this.alphasCumprod = NoiseSchedule.alphasCumprod(config, rescaleAllowed);
        if (rescaleAllowed && config.rescaleBetasZeroSnr()) alphasCumprod[alphasCumprod.length - 1] = 0x1p-24f;
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

    /**
     * The schedule's sigmas in float32 with the final one appended: 0, or the σ of ᾱ_0 for final_sigmas_type
     * "sigma_min" (diffusers' Euler and DPM-Solver schedulers).
     */
    protected float[] withFinalSigma(double[] sig) {
        float last = switch (config.finalSigmasType()) {
            case ZERO -> 0f;
            case SIGMA_MIN -> (float) Math.sqrt((1f - alphasCumprod[0]) / alphasCumprod[0]);
        };
        float[] sigmas = new float[sig.length + 1];
        for (int i = 0; i < sig.length; i++) sigmas[i] = (float) sig[i];
        sigmas[sig.length] = last;
        return sigmas;
    }

    /** A copy of the sigma table of the current schedule (timesteps + 1 entries). */
    public float[] sigmas() {
        return sigmas.clone();
    }

    /** The index of the next step, or −1 before the first step. */
    public int stepIndex() {
        return stepIndex;
    }

    @Override
    public void setBeginIndex(int beginIndex) {
        if (beginIndex < 0) throw new IllegalArgumentException("begin index must be >= 0, got " + beginIndex);
        this.beginIndex = beginIndex;
    }

    /** Stores a new schedule and resets the step counter and begin index. */
    protected void install(double[] timesteps, float[] sigmas, int requestedSteps) {
        this.timesteps = timesteps;
        this.sigmas = sigmas;
        this.numInferenceSteps = requestedSteps;
        this.stepIndex = -1;
        this.beginIndex = -1;
    }

    /** max σ, or √(max σ² + 1) for leading spacing (diffusers' init_noise_sigma of the Euler-type schedulers). */
    @Override
    public float initNoiseSigma() {
        requireTimesteps();
        float max = Float.NEGATIVE_INFINITY;
        for (float s : sigmas) max = Math.max(max, s);
        return switch (config.timestepSpacing()) {
            case LINSPACE, TRAILING -> max;
            case LEADING -> SigmaTables.inputScale(max);
        };
    }

    /** x / √(σ² + 1) */
    @Override
    public Tensor scaleModelInput(Tensor sample, double timestep) {
        requireTimesteps();
        if (stepIndex < 0) initStepIndex(timestep);
        return TensorMath.div(sample, SigmaTables.inputScale(sigmas[stepIndex]));
    }

    /** The position of a timestep in the schedule: the second match if it occurs twice (so img2img does not skip a sigma). */
    protected int indexForTimestep(double timestep) {
        int index = scheduleIndex(timestep);
        if (index < 0) {
            throw new IllegalArgumentException("timestep " + timestep + " is not in the schedule " + Arrays.toString(timesteps));
        }
        return index;
    }

    /** diffusers' index_for_timestep: the second occurrence if there are two, else the first; −1 when absent. */
    protected final int scheduleIndex(double timestep) {
        int first = -1;
        for (int i = 0; i < timesteps.length; i++) {
            if (timesteps[i] == timestep) {
                if (first >= 0) return i;
                first = i;
            }
        }
        return first;
    }

    protected void initStepIndex(double timestep) {
        stepIndex = beginIndex < 0 ? indexForTimestep(timestep) : beginIndex;
    }

    /** Starts the counter if needed and checks that a step remains. */
    protected void beginStep(double timestep) {
        requireTimesteps();
        if (stepIndex < 0) initStepIndex(timestep);
        if (stepIndex >= timesteps.length) {
            throw new IllegalStateException("all " + timesteps.length + " steps of the schedule are done; call setTimesteps again");
        }
    }

    protected void requireTimesteps() {
        if (numInferenceSteps == 0) {
            throw new IllegalStateException("number of inference steps is not set: call setTimesteps first");
        }
    }

    protected void checkSteps(int n) {
        if (n < 1) throw new IllegalArgumentException("num_inference_steps must be at least 1, got " + n);
    }

    /** The sigma index add_noise uses for each timestep: looked up, or the current / begin index once set. */
    protected int[] noiseIndices(double[] timesteps) {
        requireTimesteps();
        if (timesteps.length == 0) throw new IllegalArgumentException("addNoise needs at least one timestep");
        int[] idx = new int[timesteps.length];
        for (int i = 0; i < idx.length; i++) {
            if (beginIndex < 0) idx[i] = indexForTimestep(timesteps[i]);
            else idx[i] = stepIndex >= 0 ? stepIndex : beginIndex;
        }
        return idx;
    }

    /** x₀ + σ·ε */
    @Override
    public Tensor addNoise(Tensor original, Tensor noise, double... timesteps) {
        int[] idx = noiseIndices(timesteps);
        float[] one = new float[idx.length], sigma = new float[idx.length];
        for (int i = 0; i < idx.length; i++) {
            one[i] = 1f;
            sigma[i] = sigmas[idx[i]];
        }
        return TensorMath.combine(one, original, sigma, noise);
    }
}
