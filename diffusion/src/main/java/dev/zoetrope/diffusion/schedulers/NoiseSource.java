package dev.zoetrope.diffusion.schedulers;

import dev.zoetrope.core.Tensor;

/**
 * Where a stochastic scheduler step (Euler ancestral, DDIM with eta &gt; 0, SDE DPM-Solver, Euler with churn)
 * takes its noise: {@code randn(shape)} returns a new F32 tensor of standard normal samples in the current
 * scope, drawn in the same order as diffusers' {@code randn_tensor(shape, generator=...)} so that a
 * torch-compatible generator reproduces diffusers' samples.
 */
@FunctionalInterface
public interface NoiseSource {
    Tensor randn(int... shape);
}
