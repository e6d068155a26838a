package dev.zoetrope.diffusion.pipelines;

import dev.zoetrope.media.RgbImage;

import java.util.List;

/**
 * What a run produced and the settings that produced it.
 *
 * @param images    the generated images, in batch order
 * @param latents   the final latents [batch, 4, h, w] (diffusers' output_type="latent")
 * @param mode      txt2img, img2img or inpaint
 * @param settings  the settings as run, with the seed that was actually used (null only when the caller supplied
 *                  its own noise source)
 * @param width     output width in pixels
 * @param height    output height in pixels
 * @param sampler   the scheduler that ran, as AUTOMATIC1111 names samplers ("DDIM", "PLMS", "Euler a", …)
 * @param strength  img2img/inpaint strength (NaN for txt2img)
 * @param model     the model's name (folder or file name)
 */
public record ImageResult(List<RgbImage> images, Latents latents, Mode mode, GenerationSettings settings, int width,
                          int height, String sampler, double strength, String model) {

    public enum Mode { TXT2IMG, IMG2IMG, INPAINT }

    public ImageResult {
        images = List.copyOf(images);
    }

    /** The seed used (null only with a caller-supplied noise source and no seed). */
    public Long seed() {
        return settings.seed();
    }

    /**
     * The generation parameters of image {@code index} as AUTOMATIC1111 writes them into a PNG "parameters" text
     * chunk: the prompt, a "Negative prompt:" line, then "Steps: …, Sampler: …, CFG scale: …, Seed: …, Size: WxH,
     * Model: …" and, where they apply, denoising strength, clip skip (A1111 counts the last layer as 1, so diffusers'
     * clip_skip + 1), eta, guidance rescale and the batch position.
     */
    public String parameters(int index) {
        if (index < 0 || index >= images.size()) {
            throw new IndexOutOfBoundsException("image " + index + " of " + images.size());
        }
        StringBuilder sb = new StringBuilder(oneLine(settings.prompt()));
        if (!settings.negativePrompt().isEmpty()) sb.append("\nNegative prompt: ").append(oneLine(settings.negativePrompt()));
        sb.append("\nSteps: ").append(settings.steps());
        sb.append(", Sampler: ").append(sampler);
        sb.append(", CFG scale: ").append(settings.guidanceScale());
        if (settings.seed() != null) sb.append(", Seed: ").append(Long.toUnsignedString(settings.seed()));
        sb.append(", Size: ").append(width).append('x').append(height);
        sb.append(", Model: ").append(model);
        if (mode != Mode.TXT2IMG) sb.append(", Denoising strength: ").append(strength);
        if (settings.clipSkip() > 0) sb.append(", Clip skip: ").append(settings.clipSkip() + 1);
        if (settings.eta() > 0) sb.append(", Eta: ").append(settings.eta());
        if (settings.guidanceRescale() > 0) sb.append(", Guidance rescale: ").append(settings.guidanceRescale());
        if (images.size() > 1) sb.append(", Batch size: ").append(images.size()).append(", Batch pos: ").append(index);
        sb.append(", Version: zoetrope");
        return sb.toString();
    }

    /** A1111's format is line-based: a prompt's own line breaks become spaces. */
    private static String oneLine(String s) {
        return s.replace("\r\n", " ").replace('\n', ' ').replace('\r', ' ');
    }
}
