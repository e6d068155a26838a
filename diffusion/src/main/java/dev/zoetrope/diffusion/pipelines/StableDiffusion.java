package dev.zoetrope.diffusion.pipelines;

import dev.zoetrope.core.Backend.Interpolation;
import dev.zoetrope.core.CheckpointException;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.diffusion.schedulers.DDIMScheduler;
import dev.zoetrope.diffusion.noise.NoiseSource;
import dev.zoetrope.diffusion.schedulers.Scheduler;
import dev.zoetrope.diffusion.schedulers.SchedulerConfig;
import dev.zoetrope.diffusion.schedulers.Schedulers;
import dev.zoetrope.media.RgbImage;
import dev.zoetrope.models.clip.ClipTextModel;
import dev.zoetrope.models.tokenizer.ClipTokenizer;
import dev.zoetrope.models.unet.UNet2DConditionModel;
import dev.zoetrope.models.vae.AutoencoderKL;
import dev.zoetrope.models.vae.DiagonalGaussian;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import static dev.zoetrope.core.Ops.add;
import static dev.zoetrope.core.Ops.affine;
import static dev.zoetrope.core.Ops.concat;
import static dev.zoetrope.core.Ops.div;
import static dev.zoetrope.core.Ops.interpolate;
import static dev.zoetrope.core.Ops.mul;
import static dev.zoetrope.core.Ops.scale;
import static dev.zoetrope.core.Ops.sub;

/**
 * Stable Diffusion 1.x/2.x text-to-image, image-to-image and inpainting, computing what diffusers v0.40's
 * {@code StableDiffusionPipeline}, {@code StableDiffusionImg2ImgPipeline} and {@code StableDiffusionInpaintPipeline}
 * compute for the same checkpoint and seed (float32, CPU generator).
 *
 * <pre>{@code
 * try (StableDiffusion sd = StableDiffusion.load(Path.of("stable-diffusion-v1-5"))) {
 *     ImageResult r = sd.txt2img(Txt2ImgRequest.of(GenerationSettings.of("a red robot").withSeed(42L)));
 *     Images.writePng(r.images().get(0), Path.of("robot.png"), r.parameters(0));
 * }
 * }</pre>
 *
 * Loading: {@link StableDiffusionLoader}. One run at a time per instance (the methods are synchronized);
 * {@link RunOptions} adds progress, cancellation, a noise override and an intermediate-tensor inspector.
 */
public final class StableDiffusion implements AutoCloseable {
    private final String name;
    private final ClipTokenizer tokenizer;
    private final ClipTextModel textEncoder;
    private final UNet2DConditionModel unet;
    private final AutoencoderKL vae;
    private final SchedulerConfig schedulerConfig;   // the model's scheduler, resolved for its own class
    private final int defaultSize;                   // pixels; 0 = the UNet's sample_size × the VAE factor
    private final List<AutoCloseable> resources;     // closed in order

    StableDiffusion(String name, ClipTokenizer tokenizer, ClipTextModel textEncoder, UNet2DConditionModel unet,
                    AutoencoderKL vae, SchedulerConfig schedulerConfig, int defaultSize, List<AutoCloseable> resources) {
        this.name = name;
        this.defaultSize = defaultSize;
        this.tokenizer = tokenizer;
        this.textEncoder = textEncoder;
        this.unet = unet;
        this.vae = vae;
        this.schedulerConfig = schedulerConfig;
        this.resources = List.copyOf(resources);
        int latent = vae.config().latentChannels();
        int in = unet.config().inChannels();
        if (in != latent && in != 2 * latent + 1) {
            throw new CheckpointException(name + ": the UNet takes " + in + " input channels; Stable Diffusion needs "
                    + latent + " (the VAE's latent channels) or " + (2 * latent + 1) + " (inpainting)");
        }
        if (unet.config().crossAttentionDim()[0] != textEncoder.config().hiddenSize()) {
            throw new CheckpointException(name + ": the text encoder's hidden size " + textEncoder.config().hiddenSize()
                    + " does not match the UNet's cross_attention_dim " + unet.config().crossAttentionDim()[0]);
        }
    }

    /** A local diffusers folder, or a single-file checkpoint (see {@link StableDiffusionLoader}). */
    public static StableDiffusion load(Path path) {
        return StableDiffusionLoader.load(path);
    }

    /** The model's name (its folder or file name), as written into the generation parameters. */
    public String name() {
        return name;
    }

    /** 2^(number of VAE blocks − 1): 8 for the real models. */
    public int vaeScaleFactor() {
        return vae.config().scaleFactor();
    }

    /** Whether the UNet is an inpainting one (latents + mask + masked-image latents as input). */
    public boolean isInpaintingModel() {
        return unet.config().inChannels() != vae.config().latentChannels();
    }

    /**
     * diffusers' default output size: the UNet's sample_size × the VAE scale factor (512 for SD 1.5; single-file
     * SD 2.x checkpoints: 768, as from_single_file configures them).
     */
    public int defaultSize() {
        return defaultSize > 0 ? defaultSize : unet.config().sampleSize() * vaeScaleFactor();
    }

    /** The model's own scheduler config (scheduler_config.json). */
    public SchedulerConfig schedulerConfig() {
        return schedulerConfig;
    }

    public ClipTokenizer tokenizer() {
        return tokenizer;
    }

    public ClipTextModel textEncoder() {
        return textEncoder;
    }

    public UNet2DConditionModel unet() {
        return unet;
    }

    public AutoencoderKL vae() {
        return vae;
    }

    // ================================================================ txt2img

    public ImageResult txt2img(Txt2ImgRequest request) {
        return txt2img(request, RunOptions.defaults());
    }

    /** diffusers' {@code StableDiffusionPipeline.__call__} with output_type "pil" (and the latents). */
    public synchronized ImageResult txt2img(Txt2ImgRequest request, RunOptions options) {
        GenerationSettings s = withSeed(request.settings(), options);
        int height = request.height() == 0 ? defaultSize() : request.height();
        int width = request.width() == 0 ? defaultSize() : request.width();
        if (height % 8 != 0 || width % 8 != 0) {
            throw new IllegalArgumentException("width and height have to be divisible by 8 but are " + width + " and " + height);
        }
        if (isInpaintingModel()) {
            throw new IllegalArgumentException(name + " is an inpainting model (its UNet takes " + unet.config().inChannels()
                    + " channels); use inpaint");
        }
        int f = vaeScaleFactor();
        int[] latentShape = {s.batchSize(), vae.config().latentChannels(), height / f, width / f};
        try (Scope run = Scope.open(); Scheduler scheduler = createScheduler(s)) {
            Run r = new Run(s, options);
            Tensor context = encodePrompt(r);
            scheduler.setTimesteps(s.steps());
            double[] timesteps = scheduler.timesteps();
            Tensor latents;
            if (request.initialLatents() != null) {
                latents = checkedLatents(request.initialLatents(), latentShape, "initial latents");
            } else {
                latents = r.noise.randn(latentShape);
            }
            latents = scale(latents, scheduler.initNoiseSigma());              // [N, 4, h, w]
            latents = denoise(r, scheduler, timesteps, latents, context, null);
            return finish(r, latents, ImageResult.Mode.TXT2IMG, width, height, scheduler, Double.NaN);
        }
    }

    // ================================================================ img2img

    public ImageResult img2img(Img2ImgRequest request) {
        return img2img(request, RunOptions.defaults());
    }

    /** diffusers' {@code StableDiffusionImg2ImgPipeline.__call__}. */
    public synchronized ImageResult img2img(Img2ImgRequest request, RunOptions options) {
        GenerationSettings s = withSeed(request.settings(), options);
        if (isInpaintingModel()) {
            throw new IllegalArgumentException(name + " is an inpainting model (its UNet takes " + unet.config().inChannels()
                    + " channels); use inpaint");
        }
        int f = vaeScaleFactor();
        RgbImage image = request.image();
        int width = VaeImageProcessor.roundDown(request.width() == 0 ? image.width() : request.width(), f);
        int height = VaeImageProcessor.roundDown(request.height() == 0 ? image.height() : request.height(), f);
        if (width == 0 || height == 0) {
            throw new IllegalArgumentException("image of " + image.width() + "x" + image.height()
                    + " is smaller than the VAE scale factor " + f);
        }
        try (Scope run = Scope.open(); Scheduler scheduler = createScheduler(s)) {
            Run r = new Run(s, options);
            Tensor context = encodePrompt(r);
            Tensor pixels = VaeImageProcessor.preprocess(image, width, height);    // [1, 3, H, W] in [-1, 1]

            scheduler.setTimesteps(s.steps());
            double[] timesteps = scheduler.timestepsForStrength(request.strength());
            if (timesteps.length == 0) throw noStepsLeft(s.steps(), request.strength());

            Tensor imageLatents = repeatBatch(encodeImage(r, pixels), s.batchSize());   // [N, 4, h, w]
            r.inspect(Inspector.IMAGE_LATENTS, -1, imageLatents);
            int[] shape = imageLatents.shape();
            Tensor noise = request.latentNoise() != null
                    ? checkedLatents(request.latentNoise(), shape, "latent noise") : r.noise.randn(shape);
            Tensor latents = scheduler.addNoise(imageLatents, noise, timesteps[0]);
            latents = denoise(r, scheduler, timesteps, latents, context, null);
            return finish(r, latents, ImageResult.Mode.IMG2IMG, width, height, scheduler, request.strength());
        }
    }

    // ================================================================ inpaint

    public ImageResult inpaint(InpaintRequest request) {
        return inpaint(request, RunOptions.defaults());
    }

    /** diffusers' {@code StableDiffusionInpaintPipeline.__call__} (no padding_mask_crop). */
    public synchronized ImageResult inpaint(InpaintRequest request, RunOptions options) {
        GenerationSettings s = withSeed(request.settings(), options);
        int f = vaeScaleFactor();
        int height = request.height() == 0 ? defaultSize() : request.height();
        int width = request.width() == 0 ? defaultSize() : request.width();
        if (height % f != 0 || width % f != 0) {
            throw new IllegalArgumentException("width and height have to be divisible by " + f + " but are " + width
                    + " and " + height);
        }
        boolean nineChannel = isInpaintingModel();
        int latentChannels = vae.config().latentChannels();
        int n = s.batchSize();
        int[] latentShape = {n, latentChannels, height / f, width / f};
        try (Scope run = Scope.open(); Scheduler scheduler = createScheduler(s)) {
            Run r = new Run(s, options);
            Tensor context = encodePrompt(r);

            scheduler.setTimesteps(s.steps());
            double[] timesteps = scheduler.timestepsForStrength(request.strength());
            if (timesteps.length < 1) throw noStepsLeft(s.steps(), request.strength());
            boolean strengthMax = request.strength() == 1.0;

            Tensor initImage = VaeImageProcessor.preprocess(request.image(), width, height);   // [1, 3, H, W]

            // prepare_latents: the image latents first (their posterior draw precedes the latent noise)
            boolean needImageLatents = !nineChannel || request.blend() == InpaintBlend.BEFORE_STEP;
            Tensor imageLatents = null;
            if (needImageLatents || (request.initialLatents() == null && !strengthMax)) {
                imageLatents = repeatBatch(encodeImage(r, initImage), n);                  // [N, 4, h, w]
                r.inspect(Inspector.IMAGE_LATENTS, -1, imageLatents);
            }
            Tensor noise;
            Tensor latents;
            if (request.initialLatents() == null) {
                noise = r.noise.randn(latentShape);
                latents = strengthMax ? scale(noise, scheduler.initNoiseSigma())
                        : scheduler.addNoise(imageLatents, noise, timesteps[0]);
            } else {
                noise = checkedLatents(request.initialLatents(), latentShape, "initial latents");
                latents = scale(noise, scheduler.initNoiseSigma());
            }

            Tensor maskCondition = VaeImageProcessor.maskCondition(request.mask(), width, height); // [1, 1, H, W]
            r.inspect(Inspector.MASK_CONDITION, -1, maskCondition);
            // masked_image = image · (mask < 0.5)
            Tensor keep = affine(maskCondition, -1f, 1f);
            Tensor maskedImage = mul(initImage, keep);

            // prepare_mask_latents
            Tensor mask = interpolate(maskCondition, height / f, width / f, Interpolation.NEAREST, false);  // [1, 1, h, w]
            r.inspect(Inspector.MASK_LATENT, -1, mask);
            Tensor maskedImageLatents = encodeImage(r, maskedImage);                       // [1, 4, h, w]
            r.inspect(Inspector.MASKED_IMAGE_LATENTS, -1, maskedImageLatents);
            mask = repeatBatch(mask, n);
            maskedImageLatents = repeatBatch(maskedImageLatents, n);

            Inpainting inpainting = new Inpainting(request.blend(), nineChannel, mask, imageLatents, noise,
                    nineChannel ? extraChannels(mask, maskedImageLatents, s.classifierFreeGuidance()) : null);
            latents = denoise(r, scheduler, timesteps, latents, context, inpainting);
            return finish(r, latents, ImageResult.Mode.INPAINT, width, height, scheduler, request.strength());
        }
    }

    /** cat([mask, masked_image_latents]) (each duplicated for the CFG batch), appended to the UNet input. */
    private static Tensor extraChannels(Tensor mask, Tensor maskedImageLatents, boolean cfg) {
        Tensor m = cfg ? concat(0, mask, mask) : mask;
        Tensor l = cfg ? concat(0, maskedImageLatents, maskedImageLatents) : maskedImageLatents;
        return concat(1, m, l);
    }

    /**
     * The inpainting state of a run.
     *
     * @param mask          [N, 1, h, w], 1 = repaint
     * @param imageLatents  the clean image latents [N, 4, h, w] (null for 9-channel diffusers runs)
     * @param noise         the run's latent noise, re-used to noise the image latents for the blend
     * @param extraChannels [2N or N, 5, h, w] for 9-channel UNets, else null
     */
    private record Inpainting(InpaintBlend blend, boolean nineChannel, Tensor mask, Tensor imageLatents, Tensor noise,
                              Tensor extraChannels) {
        /** (1 − m)·known + m·latents: the known region from {@code known}, the repainted one from {@code latents}. */
        Tensor keepKnown(Tensor known, Tensor latents) {
            return add(mul(affine(mask, -1f, 1f), known), mul(mask, latents));
        }
    }

    // ================================================================ shared stages

    /** Everything a run carries between its stages. */
    private final class Run {
        final GenerationSettings settings;
        final RunOptions options;
        final NoiseSource noise;

        Run(GenerationSettings settings, RunOptions options) {
            this.settings = settings;
            this.options = options;
            this.noise = options.noise() != null ? options.noise() : NoiseSource.seeded(settings.seed());
        }

        void inspect(String what, int step, Tensor value) {
            options.inspector().inspect(what, step, value);
        }

        void checkCancelled(String where) {
            if (options.cancellation() != null) options.cancellation().check(where);
        }
    }

    private static GenerationSettings withSeed(GenerationSettings s, RunOptions options) {
        if (s.seed() != null || options.noise() != null) return s;
        // a random seed a user can type back in (A1111 uses 32-bit seeds too)
        return s.withSeed(ThreadLocalRandom.current().nextLong(1L << 32));
    }

    private Scheduler createScheduler(GenerationSettings s) {
        String own = schedulerConfig.originClassName();
        if (s.scheduler().equals("default") && own != null && !own.equals(schedulerConfig.type().className())) {
            List<String> names = new ArrayList<>(Schedulers.NAMES);
            names.remove("default");
            throw new IllegalArgumentException(name + " comes with a " + own + ", which is not implemented; choose a "
                    + "scheduler: " + String.join(", ", names));
        }
        Scheduler scheduler = Schedulers.create(s.scheduler(), schedulerConfig);
        if (scheduler instanceof DDIMScheduler ddim) ddim.setEta(s.eta());
        return scheduler;
    }

    /**
     * encode_prompt: the prompt through the text encoder (with clip_skip), the negative prompt through it WITHOUT
     * clip_skip (diffusers passes clip_skip only for the prompt), each repeated batch times → [neg…, pos…] for
     * guidance, [pos…] without.
     */
    private Tensor encodePrompt(Run r) {
        GenerationSettings s = r.settings;
        Tensor prompt = textEncoder.encode(tokenIds(s.prompt(), "prompt", r), s.clipSkip());   // [1, 77, D]
        r.inspect(Inspector.PROMPT_EMBEDS, -1, prompt);
        Tensor context = repeatBatch(prompt, s.batchSize());
        if (s.classifierFreeGuidance()) {
            Tensor negative = textEncoder.lastHiddenState(tokenIds(s.negativePrompt(), "negative prompt", r));
            r.inspect(Inspector.NEGATIVE_PROMPT_EMBEDS, -1, negative);
            context = concat(0, repeatBatch(negative, s.batchSize()), context);
        }
        return context;
    }

    private Tensor tokenIds(String text, String what, Run r) {
        ClipTokenizer.Tokens tokens = tokenizer.encode(text);
        if (tokens.truncated()) {
            r.options.progress().onWarning("the " + what + " is longer than CLIP's " + tokenizer.maxLength()
                    + " tokens; this part was dropped: \"" + tokens.truncatedText() + "\"");
        }
        int[] ids = tokens.ids();
        long[] longs = new long[ids.length];
        for (int i = 0; i < ids.length; i++) longs[i] = ids[i];
        return Tensor.ofLongs(longs, 1, ids.length);
    }

    /** retrieve_latents(vae.encode(x), generator) · scaling_factor: a posterior sample with one noise draw. */
    private Tensor encodeImage(Run r, Tensor pixels) {
        DiagonalGaussian posterior = vae.encode(pixels);
        Tensor eps = r.noise.randn(posterior.mean().shape());
        return scale(posterior.sample(eps), vae.scalingFactor());
    }

    /**
     * The denoising loop shared by the three pipelines: CFG batch, scheduler input scaling, UNet (with the
     * inpainting channels), guidance (and rescale), scheduler step, inpainting blend, progress and cancellation.
     */
    private Tensor denoise(Run r, Scheduler scheduler, double[] timesteps, Tensor latents, Tensor context,
                           Inpainting inpainting) {
        GenerationSettings s = r.settings;
        boolean cfg = s.classifierFreeGuidance();
        int total = timesteps.length;
        r.inspect(Inspector.LATENTS_START, -1, latents);
        r.options.progress().onStep(new ProgressListener.Step(0, total, timesteps[0], latents));
        for (int i = 0; i < total; i++) {
            r.checkCancelled("step " + (i + 1) + " of " + total);
            double t = timesteps[i];
            try (Scope step = Scope.open()) {
                Tensor x = latents;
                if (inpainting != null && inpainting.blend() == InpaintBlend.BEFORE_STEP) {
                    x = inpainting.keepKnown(scheduler.addNoise(inpainting.imageLatents(), inpainting.noise(), t), x);
                }
                Tensor input = cfg ? concat(0, x, x) : x;
                input = scheduler.scaleModelInput(input, t);
                if (inpainting != null && inpainting.nineChannel()) input = concat(1, input, inpainting.extraChannels());
                Tensor out = unet.forward(input, (float) t, context);                     // [2N or N, 4, h, w]
                r.inspect(Inspector.UNET_OUT, i, out);
                Tensor eps = out;
                if (cfg) {
                    int n = x.dim(0);
                    Tensor uncond = out.narrow(0, 0, n);
                    Tensor text = out.narrow(0, n, n);
                    eps = add(uncond, scale(sub(text, uncond), (float) s.guidanceScale()));
                    if (s.guidanceRescale() > 0) eps = Guidance.rescale(eps, text, s.guidanceRescale());
                }
                Tensor next = scheduler.step(eps, t, x, r.noise).prevSample();
                if (inpainting != null && !inpainting.nineChannel() && inpainting.blend() == InpaintBlend.DIFFUSERS) {
                    Tensor known = i < total - 1
                            ? scheduler.addNoise(inpainting.imageLatents(), inpainting.noise(), timesteps[i + 1])
                            : inpainting.imageLatents();
                    next = inpainting.keepKnown(known, next);
                }
                latents = step.keep(next.contiguous());
            }
            r.inspect(Inspector.STEP_LATENTS, i, latents);
            r.options.progress().onStep(new ProgressListener.Step(i + 1, total, t, latents));
        }
        return latents;
    }

    /** Decode (latents / scaling_factor), post-process, and collect the result. */
    private ImageResult finish(Run r, Tensor latents, ImageResult.Mode mode, int width, int height, Scheduler scheduler,
                               double strength) {
        r.checkCancelled("decoding");
        Latents finalLatents = Latents.of(latents);
        Tensor decoded = vae.decode(div(latents, Tensor.scalar(vae.scalingFactor())));     // [N, 3, H, W]
        r.inspect(Inspector.IMAGE, -1, VaeImageProcessor.toNumpyLayout(decoded));
        List<RgbImage> images = VaeImageProcessor.toImages(decoded);
        return new ImageResult(images, finalLatents, mode, r.settings, width, height, SamplerNames.of(scheduler.config()),
                strength, name);
    }

    /** A copy of caller-given latents as a tensor, checked against the shape the run needs. */
    private static Tensor checkedLatents(Latents given, int[] expected, String what) {
        if (!given.hasShape(expected)) {
            throw new IllegalArgumentException(what + " have shape " + Arrays.toString(given.shape()) + ", expected "
                    + Arrays.toString(expected) + " (batch, latent channels, height/f, width/f)");
        }
        return given.toTensor();
    }

    /** x[1, …] → [n, …] (diffusers' repeat / cat of copies for num_images_per_prompt). */
    private static Tensor repeatBatch(Tensor x, int n) {
        if (n == 1) return x;
        List<Tensor> copies = new ArrayList<>(n);
        for (int i = 0; i < n; i++) copies.add(x);
        return concat(0, copies);
    }

    private static IllegalArgumentException noStepsLeft(int steps, double strength) {
        return new IllegalArgumentException("strength " + strength + " with " + steps + " steps leaves no denoising step "
                + "(int(steps·strength) = " + (int) (steps * strength) + "); raise the strength or the steps");
    }

    @Override
    public void close() {
        RuntimeException failure = null;
        for (AutoCloseable c : resources) {
            try {
                c.close();
            } catch (Exception e) {
                if (failure == null) failure = new IllegalStateException("closing " + name + ": " + e.getMessage(), e);
            }
        }
        if (failure != null) throw failure;
    }
}
