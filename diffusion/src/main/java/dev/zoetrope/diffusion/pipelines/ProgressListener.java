package dev.zoetrope.diffusion.pipelines;

import dev.zoetrope.core.Tensor;

/**
 * Hears how a run goes. Called on the generating thread; keep it quick.
 */
public interface ProgressListener {
    /** Does nothing. */
    ProgressListener NONE = step -> { };

    /**
     * One denoising step done ({@code step} of {@code total}; step 0 is the start, before the first UNet call).
     *
     * @param step     steps done so far, 0..total
     * @param total    steps this run makes (for img2img/inpaint, the strength-shortened count)
     * @param timestep the timestep of the step just made (of the first step, for step 0)
     * @param latents  the current latents [batch, 4, h, w] — a preview, valid only during the call (copy it with
     *                 {@link Latents#of} to keep it)
     */
    record Step(int step, int total, double timestep, Tensor latents) {
    }

    void onStep(Step step);

    /** Something the user should know that does not stop the run (e.g. a prompt truncated to 77 tokens). */
    default void onWarning(String message) {
    }
}
