package dev.zoetrope.cli;

import dev.zoetrope.diffusion.pipelines.GenerationSettings;
import dev.zoetrope.diffusion.pipelines.ImageResult;
import dev.zoetrope.diffusion.pipelines.InpaintBlend;
import dev.zoetrope.diffusion.pipelines.InpaintRequest;
import dev.zoetrope.diffusion.pipelines.Latents;
import dev.zoetrope.diffusion.pipelines.RunOptions;
import dev.zoetrope.diffusion.pipelines.StableDiffusion;
import dev.zoetrope.diffusion.pipelines.VaeImageProcessor;
import dev.zoetrope.media.Images;
import dev.zoetrope.media.RgbImage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code zoe inpaint}: Stable Diffusion inpainting. */
@Command(name = "inpaint", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Repaint the white part of a mask (diffusers' StableDiffusionInpaintPipeline).",
                "Works with inpainting checkpoints (9-channel UNet) and with ordinary ones (the kept region is blended back)."})
final class InpaintCommand extends GenerationCommand {
    @Option(names = {"-i", "--image"}, required = true, paramLabel = "FILE", description = "The image to repaint.")
    Path image;

    @Option(names = "--mask", required = true, paramLabel = "FILE", description = "White (50%% grey or lighter) = repaint, black = keep.")
    Path mask;

    @Option(names = "--strength", paramLabel = "S", description = "In [0, 1]; 1 starts from pure noise (default: ${DEFAULT-VALUE}).")
    double strength = 1.0;

    @Option(names = {"-W", "--width"}, paramLabel = "PIXELS", description = "Output width, a multiple of 8 (default: the image's, rounded down).")
    Integer width;

    @Option(names = {"-H", "--height"}, paramLabel = "PIXELS", description = "Output height, a multiple of 8 (default: the image's, rounded down).")
    Integer height;

    @Option(names = "--blend", paramLabel = "RULE",
            description = "How the kept region is held: diffusers (after each step, diffusers' rule; default) or before-step "
                    + "(replace it before each step with the original noised to that step).")
    String blend = "diffusers";

    private RgbImage loadedImage;
    private RgbImage loadedMask;
    private InpaintBlend blendRule;

    @Override
    String mode() {
        return "inpaint";
    }

    @Override
    void validate() {
        if (!(strength >= 0 && strength <= 1)) throw new UserError("--strength must be in [0, 1], got " + strength);
        if ((int) (steps * strength) < 1) {
            throw new UserError("--strength " + strength + " with " + steps + " steps leaves no denoising step; raise either");
        }
        blendRule = switch (blend.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "diffusers" -> InpaintBlend.DIFFUSERS;
            case "before-step" -> InpaintBlend.BEFORE_STEP;
            default -> throw new UserError("unknown --blend \"" + blend + "\"; choose diffusers or before-step");
        };
        checkSize("--width", width);
        checkSize("--height", height);
        loadedImage = Images.read(image);
        loadedMask = Images.read(mask);
        if (width == null) width = VaeImageProcessor.roundDown(loadedImage.width(), 8);
        if (height == null) height = VaeImageProcessor.roundDown(loadedImage.height(), 8);
        if (width < 8 || height < 8) {
            throw new UserError(image + ": image of " + loadedImage.width() + "x" + loadedImage.height() + " is smaller than 8 pixels");
        }
        if (loadedMask.width() != loadedImage.width() || loadedMask.height() != loadedImage.height()) {
            spec.commandLine().getErr().println("warning: the mask is " + loadedMask.width() + "x" + loadedMask.height()
                    + " but the image is " + loadedImage.width() + "x" + loadedImage.height() + "; the mask is resized");
        }
    }

    @Override
    ImageResult generate(StableDiffusion sd, GenerationSettings settings, Latents noise, RunOptions options) {
        InpaintRequest request = new InpaintRequest(settings, loadedImage, loadedMask, strength, width, height, blendRule, noise);
        return sd.inpaint(request, options);
    }
}
