package dev.zoetrope.diffusion.schedulers;

import dev.zoetrope.core.Tensor;

/**
 * The result of one scheduler step, in the caller's current scope.
 *
 * @param prevSample          x_{t−1}, the sample for the next timestep
 * @param predOriginalSample  the predicted denoised sample x̂₀, or null where diffusers does not return one
 *                            (PNDM, DPM-Solver)
 */
public record StepOutput(Tensor prevSample, Tensor predOriginalSample) {
}
