package dev.zoetrope.cli;

import dev.zoetrope.core.Parallel;
import dev.zoetrope.diffusion.pipelines.GenerationSettings;
import dev.zoetrope.diffusion.pipelines.ImageResult;
import dev.zoetrope.diffusion.pipelines.Latents;
import dev.zoetrope.diffusion.pipelines.RunOptions;
import dev.zoetrope.diffusion.pipelines.StableDiffusion;
import dev.zoetrope.diffusion.pipelines.StableDiffusionLoader;
import dev.zoetrope.diffusion.schedulers.Schedulers;
import dev.zoetrope.hub.HubClient;
import dev.zoetrope.hub.HubConfig;
import dev.zoetrope.media.AtomicFiles;
import dev.zoetrope.media.Images;
import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The options and the run shared by {@code zoe txt2img}, {@code img2img} and {@code inpaint}: load the model, run
 * the pipeline with a progress bar on stderr, write the PNGs (atomically) with the generation parameters in their
 * "parameters" text chunk, and print each file written. Bad input fails before the model loads, in one line.
 */
abstract class GenerationCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL",
            description = "A diffusers folder (model_index.json), a single-file .safetensors checkpoint, or a hub repo id (org/name).")
    String model;

    @Option(names = {"-p", "--prompt"}, required = true, description = "What to generate.")
    String prompt;

    @Option(names = {"-n", "--negative-prompt"}, paramLabel = "TEXT", description = "What to steer away from (default: none).")
    String negativePrompt = "";

    @Option(names = "--steps", paramLabel = "N", description = "Denoising steps (default: ${DEFAULT-VALUE}).")
    int steps = GenerationSettings.DEFAULT_STEPS;

    @Option(names = {"-g", "--guidance"}, paramLabel = "SCALE", description = "Classifier-free guidance scale; 1 or less turns guidance off (default: ${DEFAULT-VALUE}).")
    double guidance = GenerationSettings.DEFAULT_GUIDANCE;

    @Option(names = "--guidance-rescale", paramLabel = "PHI", description = "diffusers' guidance_rescale in [0, 1] (default: 0, off).")
    double guidanceRescale;

    @Option(names = {"-s", "--seed"}, paramLabel = "SEED", description = "Seed of the torch-compatible generator (default: random, printed).")
    Long seed;

    @Option(names = {"-b", "--batch"}, paramLabel = "N", description = "Images to generate from one noise draw (default: 1).")
    int batch = 1;

    @Option(names = "--scheduler", paramLabel = "NAME",
            description = "ddim, pndm, euler, euler-a, dpmpp-2m, dpmpp-2m-karras or lms (default: the model's own).")
    String scheduler = "default";

    @Option(names = "--eta", paramLabel = "ETA", description = "DDIM eta (default: 0).")
    double eta;

    @Option(names = "--clip-skip", paramLabel = "N",
            description = "Skip the last N text encoder layers, as diffusers' clip_skip: 1 = the penultimate layer (AUTOMATIC1111's \"Clip skip 2\"). Default: 0.")
    int clipSkip;

    @Option(names = "--init-noise", paramLabel = "FILE.safetensors",
            description = "Starting noise instead of the seed's: a safetensors file with one tensor (any name) of the latent shape [batch, 4, height/8, width/8].")
    Path initNoise;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE.png",
            description = "Output PNG. With --batch N: name-1.png … name-N.png, or a pattern with {n} (and {seed}). Default: <command>-{seed}.png.")
    String output;

    @Option(names = "--config", paramLabel = "DIR|REPO",
            description = "For a single-file checkpoint: a diffusers folder or hub repo id of the same architecture whose "
                    + "tokenizer and configs to use (default: the file's folder if it has tokenizer/, else the reference "
                    + "repo diffusers uses, e.g. stable-diffusion-v1-5/stable-diffusion-v1-5, config files only).")
    String config;

    @Option(names = "--revision", paramLabel = "REV", description = "Hub branch, tag or commit of a repo id (default: main).")
    String revision;

    @Option(names = "--variant", paramLabel = "NAME", description = "Hub weight variant of a repo id, e.g. fp16 (default: plain weights).")
    String variant;

    @Option(names = "--threads", paramLabel = "N", description = "Compute threads (default: all cores).")
    Integer threads;

    @Option(names = {"-q", "--quiet"}, description = "No progress bar.")
    boolean quiet;

    /** The command's name for default file names and messages. */
    abstract String mode();

    /** Checks of the command's own options, before the model loads. */
    void validate() {
    }

    /** Runs the pipeline. */
    abstract ImageResult generate(StableDiffusion sd, GenerationSettings settings, Latents noise, RunOptions options);

    @Override
    public final Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter out = spec.commandLine().getOut();
        validateCommon();
        validate();
        if (threads != null) Parallel.setThreads(threads);
        Latents noise = initNoise == null ? null : Latents.read(initNoise);
        long usedSeed = seed != null ? seed : ThreadLocalRandom.current().nextLong(1L << 32);
        List<Path> outputs = outputPaths(output == null ? mode() + "-{seed}.png" : output, batch, usedSeed);
        for (Path p : outputs) {
            try {
                AtomicFiles.checkWritable(p);   // refuse now rather than after the whole run
            } catch (IOException e) {
                throw new UserError("--output: " + e.getMessage());
            }
        }
        GenerationSettings settings = GenerationSettings.of(prompt).withNegativePrompt(negativePrompt).withSteps(steps)
                .withGuidanceScale(guidance).withGuidanceRescale(guidanceRescale).withSeed(usedSeed).withBatchSize(batch)
                .withScheduler(scheduler).withEta(eta).withClipSkip(clipSkip);

        ProgressBar bar = new ProgressBar(err, System.console() != null);
        ImageResult result;
        try (StableDiffusion sd = openModel(bar)) {
            RunOptions options = RunOptions.defaults().withProgress(new StepProgress(bar, !quiet, seed == null ? "seed " + usedSeed : null));
            result = generate(sd, settings, noise, options);
        } finally {
            bar.finish();
        }
        for (int i = 0; i < outputs.size(); i++) {
            Images.writePng(result.images().get(i), outputs.get(i), result.parameters(i));
            out.println("wrote " + outputs.get(i) + " (" + result.width() + "x" + result.height() + ", seed " + usedSeed
                    + (outputs.size() > 1 ? ", image " + (i + 1) + " of " + outputs.size() : "") + ")");
        }
        out.flush();
        return 0;
    }

    private void validateCommon() {
        if (steps < 1) throw new UserError("--steps must be at least 1, got " + steps);
        if (batch < 1) throw new UserError("--batch must be at least 1, got " + batch);
        if (clipSkip < 0) throw new UserError("--clip-skip must be 0 or more, got " + clipSkip);
        if (!(guidanceRescale >= 0 && guidanceRescale <= 1)) throw new UserError("--guidance-rescale must be in [0, 1], got " + guidanceRescale);
        if (!(eta >= 0)) throw new UserError("--eta must be 0 or more, got " + eta);
        if (threads != null && threads < 1) throw new UserError("--threads must be at least 1, got " + threads);
        String name = scheduler.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        if (!Schedulers.NAMES.contains(name)) {
            List<String> valid = new ArrayList<>(Schedulers.NAMES);
            valid.remove("default");
            throw new UserError("unknown scheduler \"" + scheduler + "\"; choose one of: " + String.join(", ", valid));
        }
        scheduler = name;
        if (initNoise != null && !Files.isRegularFile(initNoise)) throw new UserError("--init-noise: no such file " + initNoise);
    }

    /** --width/--height of txt2img and inpaint: a positive multiple of 8. */
    static void checkSize(String option, Integer value) {
        if (value == null) return;
        if (value < 8 || value % 8 != 0) throw new UserError(option + " must be a positive multiple of 8, got " + value);
    }

    HubConfig hubConfig = null; // tests set a configuration; otherwise the environment's

    /** A local folder or file, or a hub repo id downloaded into the Hugging Face cache (progress on stderr). */
    StableDiffusion openModel(ProgressBar bar) {
        try (HubClient hub = new HubClient(hubConfig != null ? hubConfig : HubConfig.fromEnvironment())) {
            return StableDiffusionLoader.fromPretrained(model, hub, revision, variant, config,
                    p -> bar.update(p.fraction(), ProgressBar.bytes(p.bytes()) + " / " + ProgressBar.bytes(p.totalBytes())
                            + "  " + p.file(), false));
        } finally {
            bar.finish();
        }
    }

    /** The files to write: a pattern with {n} / {seed}, or name-1.png … name-N.png for a batch. */
    static List<Path> outputPaths(String pattern, int count, long seed) {
        if (!pattern.toLowerCase(Locale.ROOT).endsWith(".png")) throw new UserError("--output must name a .png file, got " + pattern);
        String withSeed = pattern.replace("{seed}", Long.toUnsignedString(seed));
        List<Path> paths = new ArrayList<>(count);
        for (int i = 1; i <= count; i++) {
            String name;
            if (withSeed.contains("{n}")) {
                name = withSeed.replace("{n}", Integer.toString(i));
            } else if (count > 1) {
                int dot = withSeed.length() - ".png".length();
                name = withSeed.substring(0, dot) + "-" + i + withSeed.substring(dot);
            } else {
                name = withSeed;
            }
            Path p = Path.of(name);
            Path parent = p.toAbsolutePath().getParent();
            if (parent != null && !Files.isDirectory(parent)) throw new UserError("--output: folder " + parent + " does not exist");
            if (Files.isDirectory(p)) throw new UserError("--output: " + p + " is a folder");
            paths.add(p);
        }
        if (paths.stream().distinct().count() < count) {
            throw new UserError("--output pattern " + pattern + " gives the same file name to several images; use {n}");
        }
        return paths;
    }
}
