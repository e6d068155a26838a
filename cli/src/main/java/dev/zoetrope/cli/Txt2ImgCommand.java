package dev.zoetrope.cli;

import dev.zoetrope.diffusion.pipelines.GenerationSettings;
import dev.zoetrope.diffusion.pipelines.ImageResult;
import dev.zoetrope.diffusion.pipelines.Latents;
import dev.zoetrope.diffusion.pipelines.RunOptions;
import dev.zoetrope.diffusion.pipelines.StableDiffusion;
import dev.zoetrope.diffusion.pipelines.Txt2ImgRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code zoe txt2img}: Stable Diffusion text-to-image. */
@Command(name = "txt2img", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Generate images from a text prompt with Stable Diffusion 1.x/2.x (diffusers' StableDiffusionPipeline).")
final class Txt2ImgCommand extends GenerationCommand {
    @Option(names = {"-W", "--width"}, paramLabel = "PIXELS", description = "Image width, a multiple of 8 (default: the model's, 512 for SD 1.5).")
    Integer width;

    @Option(names = {"-H", "--height"}, paramLabel = "PIXELS", description = "Image height, a multiple of 8 (default: the model's).")
    Integer height;

    @Override
    String mode() {
        return "txt2img";
    }

    @Override
    void validate() {
        checkSize("--width", width);
        checkSize("--height", height);
    }

    @Override
    ImageResult generate(StableDiffusion sd, GenerationSettings settings, Latents noise, RunOptions options) {
        Txt2ImgRequest request = new Txt2ImgRequest(settings, width == null ? 0 : width, height == null ? 0 : height, noise);
        return sd.txt2img(request, options);
    }
}
