package dev.zoetrope.diffusion.pipelines;

/**
 * How inpainting keeps the unmasked (known) region. With m = 1 where the mask says "repaint", x_orig the VAE
 * latents of the image and noise(x_orig, t) = the scheduler's add_noise with the run's fixed noise:
 */
public enum InpaintBlend {
    /**
     * diffusers (the default). 9-channel UNets: no blending, the UNet sees mask and masked image as inputs.
     * 4-channel UNets: AFTER each scheduler step, {@code x = (1 − m)·noise(x_orig, t_next) + m·x}; after the last
     * step the clean {@code x_orig} is used, so the known region of the final latents is exactly the encoded image.
     */
    DIFFUSERS,
    /**
     * The latent blend of stable-diffusion.cpp-style samplers: BEFORE each step, {@code x = (1 − m)·noise(x_orig,
     * t) + m·x} at the step's own timestep; nothing is pasted after the last step. It differs from
     * {@link #DIFFUSERS} in two places: at strength 1 the very first UNet call already sees the (noised) original
     * in the known region, where diffusers' sees pure noise; and the final latents of the known region are the
     * sampler's last denoised estimate instead of the encoded original, which hides seams better but lets the
     * known region drift slightly. Applies to 4- and 9-channel UNets alike (the latter then also encode the
     * image, one more noise draw before the initial latents).
     */
    BEFORE_STEP
}
