package dev.zoetrope.cli;

import dev.zoetrope.diffusion.pipelines.GenerationSettings;
import dev.zoetrope.diffusion.pipelines.ImageResult;
import dev.zoetrope.diffusion.pipelines.Img2ImgRequest;
import dev.zoetrope.diffusion.pipelines.Latents;
import dev.zoetrope.diffusion.pipelines.RunOptions;
import dev.zoetrope.diffusion.pipelines.StableDiffusion;
import dev.zoetrope.media.Images;
import dev.zoetrope.media.RgbImage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code zoe img2img}: Stable Diffusion image-to-image. */
@Command(name = "img2img", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Redraw an image guided by a prompt (diffusers' StableDiffusionImg2ImgPipeline).")
final class Img2ImgCommand extends GenerationCommand {
    @Option(names = {"-i", "--image"}, required = true, paramLabel = "FILE", description = "The starting image (PNG, JPEG, BMP, GIF, WebP).")
    Path image;

    @Option(names = "--strength", paramLabel = "S", description = "How much to change, in [0, 1] (default: ${DEFAULT-VALUE}).")
    double strength = Img2ImgRequest.DEFAULT_STRENGTH;

    @Option(names = {"-W", "--width"}, paramLabel = "PIXELS", description = "Resize the image to this width first (default: its own, rounded down to a multiple of 8).")
    Integer width;

    @Option(names = {"-H", "--height"}, paramLabel = "PIXELS", description = "Resize the image to this height first (default: its own, rounded down to a multiple of 8).")
    Integer height;

    private RgbImage loaded;

    @Override
    String mode() {
        return "img2img";
    }

    @Override
    void validate() {
        if (!(strength >= 0 && strength <= 1)) throw new UserError("--strength must be in [0, 1], got " + strength);
        if ((int) (steps * strength) < 1) {
            throw new UserError("--strength " + strength + " with " + steps + " steps leaves no denoising step; raise either");
        }
        checkSize("--width", width);
        checkSize("--height", height);
        loaded = Images.read(image);
        if ((width == null && loaded.width() < 8) || (height == null && loaded.height() < 8)) {
            throw new UserError(image + ": image of " + loaded.width() + "x" + loaded.height() + " is smaller than 8 pixels");
        }
    }

    @Override
    ImageResult generate(StableDiffusion sd, GenerationSettings settings, Latents noise, RunOptions options) {
        Img2ImgRequest request = new Img2ImgRequest(settings, loaded, strength, width == null ? 0 : width,
                height == null ? 0 : height, noise);
        return sd.img2img(request, options);
    }
}
