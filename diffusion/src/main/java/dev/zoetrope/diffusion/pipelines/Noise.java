package dev.zoetrope.diffusion.pipelines;

import dev.zoetrope.diffusion.schedulers.NoiseSource;

/** The pipelines' Gaussian noise: diffusers' randn_tensor on torch.Generator("cpu").manual_seed(seed). */
final class Noise {
    private Noise() {
    }

    static NoiseSource seeded(Long seed) {
        // TEMPORARY until the rng branch (TorchGenerator) is merged: replaced before this branch is finished.
        throw new IllegalStateException("seeded noise needs TorchGenerator (rng branch not merged yet)");
    }
}
