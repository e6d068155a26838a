package dev.zoetrope.diffusion.pipelines;

import dev.zoetrope.media.RgbImage;

/**
 * An image-to-image run (diffusers' StableDiffusionImg2ImgPipeline): the image is encoded, noised to the
 * timestep {@code strength} of the way into the schedule, and denoised from there.
 *
 * @param settings      prompts, steps, guidance, seed, batch, scheduler
 * @param image         the starting image
 * @param strength      in [0, 1]: 1 ignores most of the image, small values keep it (diffusers' default 0.8)
 * @param width         0 = the image's width rounded down to a multiple of the VAE scale factor (as diffusers'
 *                      VaeImageProcessor); otherwise the image is resized (Lanczos, as Pillow) to this width
 * @param height        likewise
 * @param latentNoise   the noise that {@code add_noise} mixes into the image latents [batch, 4, h, w], or null to draw
 *                      it from the seed. (diffusers' img2img has no {@code latents=} argument; this replaces its
 *                      prepare_latents noise draw, the VAE posterior sample still comes from the seed.)
 */
public record Img2ImgRequest(GenerationSettings settings, RgbImage image, double strength, int width, int height,
                             Latents latentNoise) {
    public static final double DEFAULT_STRENGTH = 0.8;

    public Img2ImgRequest {
        if (settings == null) throw new IllegalArgumentException("settings must not be null");
        if (image == null) throw new IllegalArgumentException("img2img needs an image");
        if (!(strength >= 0 && strength <= 1)) throw new IllegalArgumentException("strength must be in [0, 1], got " + strength);
        if (width < 0 || height < 0) {
            throw new IllegalArgumentException("width and height must not be negative (0 = the default), got " + width + "x" + height);
        }
    }

    public static Img2ImgRequest of(GenerationSettings settings, RgbImage image) {
        return new Img2ImgRequest(settings, image, DEFAULT_STRENGTH, 0, 0, null);
    }

    public Img2ImgRequest withStrength(double s) {
        return new Img2ImgRequest(settings, image, s, width, height, latentNoise);
    }

    public Img2ImgRequest withSize(int w, int h) {
        return new Img2ImgRequest(settings, image, strength, w, h, latentNoise);
    }

    public Img2ImgRequest withLatentNoise(Latents noise) {
        return new Img2ImgRequest(settings, image, strength, width, height, noise);
    }

    public Img2ImgRequest withSettings(GenerationSettings s) {
        return new Img2ImgRequest(s, image, strength, width, height, latentNoise);
    }
}
