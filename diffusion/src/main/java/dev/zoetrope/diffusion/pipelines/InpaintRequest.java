package dev.zoetrope.diffusion.pipelines;

import dev.zoetrope.media.RgbImage;

/**
 * An inpainting run (diffusers' StableDiffusionInpaintPipeline): white (≥ 50% grey) mask pixels are repainted,
 * black ones kept. Works with 9-channel inpainting UNets (mask and masked image are extra UNet inputs) and with
 * ordinary 4-channel UNets (the known region is blended back, see {@link InpaintBlend}).
 *
 * @param settings       prompts, steps, guidance, seed, batch, scheduler
 * @param image          the image to repaint
 * @param mask           the mask (read as Pillow's "L": luma of RGB); resized to the output size like the image
 * @param strength       in [0, 1]; 1 (diffusers' default) starts from pure noise
 * @param width          output width, a multiple of the VAE scale factor; 0 = the UNet's sample_size × that factor
 *                       (diffusers' default; the image and mask are resized, Lanczos, to the output size)
 * @param height         likewise
 * @param blend          how the known region is kept
 * @param initialLatents diffusers' {@code latents=}: used as the noise (× init_noise_sigma) instead of a draw — note
 *                       that diffusers then starts from this noise alone, even for strength &lt; 1
 */
public record InpaintRequest(GenerationSettings settings, RgbImage image, RgbImage mask, double strength, int width,
                             int height, InpaintBlend blend, Latents initialLatents) {
    public InpaintRequest {
        if (settings == null) throw new IllegalArgumentException("settings must not be null");
        if (image == null) throw new IllegalArgumentException("inpaint needs an image");
        if (mask == null) throw new IllegalArgumentException("inpaint needs a mask");
        if (!(strength >= 0 && strength <= 1)) throw new IllegalArgumentException("strength must be in [0, 1], got " + strength);
        if (width < 0 || height < 0) {
            throw new IllegalArgumentException("width and height must not be negative (0 = the default), got " + width + "x" + height);
        }
        if (blend == null) blend = InpaintBlend.DIFFUSERS;
    }

    public static InpaintRequest of(GenerationSettings settings, RgbImage image, RgbImage mask) {
        return new InpaintRequest(settings, image, mask, 1.0, 0, 0, InpaintBlend.DIFFUSERS, null);
    }

    public InpaintRequest withStrength(double s) {
        return new InpaintRequest(settings, image, mask, s, width, height, blend, initialLatents);
    }

    public InpaintRequest withSize(int w, int h) {
        return new InpaintRequest(settings, image, mask, strength, w, h, blend, initialLatents);
    }

    public InpaintRequest withBlend(InpaintBlend b) {
        return new InpaintRequest(settings, image, mask, strength, width, height, b, initialLatents);
    }

    public InpaintRequest withInitialLatents(Latents latents) {
        return new InpaintRequest(settings, image, mask, strength, width, height, blend, latents);
    }

    public InpaintRequest withSettings(GenerationSettings s) {
        return new InpaintRequest(s, image, mask, strength, width, height, blend, initialLatents);
    }
}
