package dev.zoetrope.diffusion.pipelines;

/**
 * A text-to-image run (diffusers' StableDiffusionPipeline).
 *
 * @param settings       prompts, steps, guidance, seed, batch, scheduler
 * @param width          image width in pixels, a multiple of 8; 0 = the UNet's sample_size × the VAE scale factor
 * @param height         image height in pixels, a multiple of 8; 0 = the same default
 * @param initialLatents diffusers' {@code latents=}: the starting noise [batch, 4, height/f, width/f] (multiplied by
 *                       the scheduler's init_noise_sigma as diffusers does), or null to draw it from the seed
 */
public record Txt2ImgRequest(GenerationSettings settings, int width, int height, Latents initialLatents) {
    public Txt2ImgRequest {
        if (settings == null) throw new IllegalArgumentException("settings must not be null");
        if (width < 0 || height < 0) {
            throw new IllegalArgumentException("width and height must not be negative (0 = the default), got " + width + "x" + height);
        }
    }

    /** The model's default size, noise from the seed. */
    public static Txt2ImgRequest of(GenerationSettings settings) {
        return new Txt2ImgRequest(settings, 0, 0, null);
    }

    public Txt2ImgRequest withSize(int w, int h) {
        return new Txt2ImgRequest(settings, w, h, initialLatents);
    }

    public Txt2ImgRequest withInitialLatents(Latents latents) {
        return new Txt2ImgRequest(settings, width, height, latents);
    }

    public Txt2ImgRequest withSettings(GenerationSettings s) {
        return new Txt2ImgRequest(s, width, height, initialLatents);
    }
}
