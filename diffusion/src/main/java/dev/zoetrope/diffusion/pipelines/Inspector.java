package dev.zoetrope.diffusion.pipelines;

import dev.zoetrope.core.Tensor;

/**
 * A debugging tap on a run's intermediates, named as diffusers' variables (and the parity fixtures' tensors), so
 * a mismatch against the reference can be found stage by stage. Values are valid only during the call.
 */
@FunctionalInterface
public interface Inspector {
    /** Text encoder output for the prompt [1, 77, D] (before repeating for the batch). */
    String PROMPT_EMBEDS = "prompt_embeds";
    /** Text encoder output for the negative prompt [1, 77, D] (only with guidance). */
    String NEGATIVE_PROMPT_EMBEDS = "negative_prompt_embeds";
    /** The latents the loop starts from [batch, 4, h, w]. */
    String LATENTS_START = "latents_start";
    /** The raw UNet output of a step [2·batch or batch, 4, h, w], batch order [uncond, cond] (step = index). */
    String UNET_OUT = "unet_out";
    /** The latents after a step (after the inpainting blend) (step = index). */
    String STEP_LATENTS = "step_latents";
    /** scaling_factor × posterior sample of the init image [1, 4, h, w] (img2img, 4-channel inpaint). */
    String IMAGE_LATENTS = "image_latents";
    /** The binarised mask [1, 1, H, W] (inpaint). */
    String MASK_CONDITION = "mask_condition";
    /** The mask at latent resolution [1, 1, h, w] (inpaint). */
    String MASK_LATENT = "mask_latent";
    /** scaling_factor × posterior sample of the masked image [1, 4, h, w] (inpaint). */
    String MASKED_IMAGE_LATENTS = "masked_image_latents";
    /** The output image [batch, H, W, 3] in [0, 1] float, as diffusers' output_type="np". */
    String IMAGE = "image";

    Inspector NONE = (name, step, value) -> { };

    /** @param step the denoising step index for per-step tensors, −1 otherwise */
    void inspect(String name, int step, Tensor value);
}
