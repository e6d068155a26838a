package dev.zoetrope.diffusion.schedulers;

import dev.zoetrope.core.Tensor;
import dev.zoetrope.diffusion.noise.NoiseSource;

import java.util.Arrays;

/**
 * A diffusion sampler, independent of any model: it turns the model's output at one timestep into the sample
 * for the next. Mirrors diffusers' scheduler API so that a pipeline loop reads the same:
 *
 * <pre>{@code
 * try (Scheduler scheduler = Schedulers.create("euler", config)) {
 *     scheduler.setTimesteps(steps);
 *     Tensor latents = scale(noise, scheduler.initNoiseSigma());
 *     for (double t : scheduler.timesteps()) {
 *         try (Scope step = Scope.open()) {
 *             Tensor eps = unet.forward(scheduler.scaleModelInput(latents, t), t, context);
 *             latents = step.keep(scheduler.step(eps, t, latents, generator).prevSample());
 *         }
 *     }
 * }
 * }</pre>
 *
 * Samples and model outputs may have any shape — image latents [B, C, H, W], video latents [B, C, F, H, W]
 * — the update is elementwise (per-sample timesteps in {@code addNoise} and dynamic thresholding treat dim 0
 * as the batch). Timesteps are doubles: integral for DDIM, PNDM and DPM-Solver (torch int64), float32 values
 * for Euler and LMS (exactly representable). {@code step} and {@code scaleModelInput} must be given values
 * from {@link #timesteps()}. Returned tensors belong to the caller's current scope; the history multistep methods keep
 * between steps lives in memory the scheduler owns until {@link #close()}. All per-step arithmetic is float32
 * in the order diffusers performs it (scalars such as ᾱ_t are float32 0-dim tensors there).
 */
public interface Scheduler extends AutoCloseable {

    /** The configuration this scheduler was built from (resolved for its class). */
    SchedulerConfig config();

    /** diffusers' {@code order}: model evaluations per denoising step (1 for every scheduler here). */
    default int order() {
        return 1;
    }

    /** Builds the timestep (and sigma) tables for {@code numInferenceSteps} steps and resets all step state. */
    void setTimesteps(int numInferenceSteps);

    /** The timesteps of the current schedule, first to last (a copy); empty before {@link #setTimesteps}. */
    double[] timesteps();

    /** The step count given to the last {@link #setTimesteps} call (what the pipelines keep as num_inference_steps). */
    int numInferenceSteps();

    /** The factor diffusers' pipelines multiply the initial Gaussian noise by (1, or the largest sigma). */
    float initNoiseSigma();

    /** The model input for timestep t (identity, or x/√(σ²+1) for the k-diffusion schedulers). */
    Tensor scaleModelInput(Tensor sample, double timestep);

    /**
     * One denoising step from timestep t. {@code noise} supplies the random draws of stochastic variants and may
     * be null for deterministic ones (a stochastic step without it fails).
     */
    StepOutput step(Tensor modelOutput, double timestep, Tensor sample, NoiseSource noise);

    /** Deterministic step (no noise source). */
    default StepOutput step(Tensor modelOutput, double timestep, Tensor sample) {
        return step(modelOutput, timestep, sample, null);
    }

    /**
     * Noises clean samples to timestep level: {@code timesteps} holds one value for the whole batch or one per
     * batch item (the first dimension of {@code original}).
     */
    Tensor addNoise(Tensor original, Tensor noise, double... timesteps);

    /**
     * Where the step counter starts (diffusers' {@code set_begin_index}); pipelines that start inside the
     * schedule (img2img, inpainting) set it. A no-op for schedulers that look the timestep up each step.
     */
    default void setBeginIndex(int beginIndex) {
    }

    /**
     * The image-to-image schedule of diffusers' pipelines ({@code get_timesteps}): with {@code init =
     * min(int(n·strength), n)} and {@code t_start = max(n − init, 0)}, returns {@code timesteps[t_start·order:]}
     * and sets the begin index to {@code t_start·order}. The first returned timestep is the one to noise the
     * encoded image to. Call after {@link #setTimesteps}.
     */
    default double[] timestepsForStrength(double strength) {
        if (!(strength >= 0 && strength <= 1)) {
            throw new IllegalArgumentException("strength must be in [0, 1], got " + strength);
        }
        int n = numInferenceSteps();
        if (n <= 0) throw new IllegalStateException("call setTimesteps before timestepsForStrength");
        int initTimestep = Math.min((int) (n * strength), n);
        int tStart = Math.max(n - initTimestep, 0);
        double[] all = timesteps();
        int from = Math.min(tStart * order(), all.length);
        setBeginIndex(tStart * order());
        return Arrays.copyOfRange(all, from, all.length);
    }

    /** Releases the history buffers; the scheduler is unusable afterwards. */
    @Override
    default void close() {
    }
}
