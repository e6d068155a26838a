package dev.zoetrope.diffusion.pipelines;

import java.util.Locale;

/**
 * What every Stable Diffusion run shares: prompts, sampling and guidance settings. Immutable; the defaults are
 * diffusers' ({@link #of}) and each {@code withX} returns a changed copy.
 *
 * @param prompt          the text to generate from
 * @param negativePrompt  the text to steer away from ("" = unconditional, as diffusers' None)
 * @param steps           num_inference_steps (img2img/inpaint run only the last {@code int(steps·strength)})
 * @param guidanceScale   classifier-free guidance scale; guidance is on when it is &gt; 1
 * @param guidanceRescale diffusers' guidance_rescale φ in [0, 1] (0 = off)
 * @param seed            seed of the torch-compatible CPU generator; null draws a random one (reported in the result)
 * @param batchSize       images per prompt (diffusers' num_images_per_prompt; one noise draw for the whole batch)
 * @param scheduler       a name from {@link dev.zoetrope.diffusion.schedulers.Schedulers#NAMES}; "default" = the
 *                        model's own scheduler
 * @param clipSkip        diffusers' clip_skip: 0 = the text encoder's last layer, 1 = the penultimate (AUTOMATIC1111's
 *                        "Clip skip 2"), …
 * @param eta             DDIM's η (ignored by the other schedulers, as in diffusers)
 */
public record GenerationSettings(String prompt, String negativePrompt, int steps, double guidanceScale,
                                 double guidanceRescale, Long seed, int batchSize, String scheduler, int clipSkip,
                                 double eta) {

    public static final int DEFAULT_STEPS = 50;
    public static final double DEFAULT_GUIDANCE = 7.5;

    public GenerationSettings {
        if (prompt == null) throw new IllegalArgumentException("prompt must not be null (use \"\" for none)");
        if (negativePrompt == null) negativePrompt = "";
        if (steps < 1) throw new IllegalArgumentException("steps must be at least 1, got " + steps);
        if (!Double.isFinite(guidanceScale)) throw new IllegalArgumentException("guidance scale must be finite, got " + guidanceScale);
        if (!(guidanceRescale >= 0 && guidanceRescale <= 1)) {
            throw new IllegalArgumentException("guidance rescale must be in [0, 1], got " + guidanceRescale);
        }
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        scheduler = scheduler == null || scheduler.isBlank() ? "default" : scheduler.trim().toLowerCase(Locale.ROOT);
        if (clipSkip < 0) throw new IllegalArgumentException("clip skip must be >= 0, got " + clipSkip);
        if (!(eta >= 0)) throw new IllegalArgumentException("eta must be >= 0, got " + eta);
    }

    /** diffusers' defaults: 50 steps, guidance 7.5, no negative prompt, random seed, one image, the model's scheduler. */
    public static GenerationSettings of(String prompt) {
        return new GenerationSettings(prompt, "", DEFAULT_STEPS, DEFAULT_GUIDANCE, 0, null, 1, "default", 0, 0);
    }

    /** Whether classifier-free guidance runs (diffusers' do_classifier_free_guidance). */
    public boolean classifierFreeGuidance() {
        return guidanceScale > 1;
    }

    public GenerationSettings withPrompt(String p) {
        return new GenerationSettings(p, negativePrompt, steps, guidanceScale, guidanceRescale, seed, batchSize, scheduler, clipSkip, eta);
    }

    public GenerationSettings withNegativePrompt(String n) {
        return new GenerationSettings(prompt, n, steps, guidanceScale, guidanceRescale, seed, batchSize, scheduler, clipSkip, eta);
    }

    public GenerationSettings withSteps(int n) {
        return new GenerationSettings(prompt, negativePrompt, n, guidanceScale, guidanceRescale, seed, batchSize, scheduler, clipSkip, eta);
    }

    public GenerationSettings withGuidanceScale(double g) {
        return new GenerationSettings(prompt, negativePrompt, steps, g, guidanceRescale, seed, batchSize, scheduler, clipSkip, eta);
    }

    public GenerationSettings withGuidanceRescale(double r) {
        return new GenerationSettings(prompt, negativePrompt, steps, guidanceScale, r, seed, batchSize, scheduler, clipSkip, eta);
    }

    public GenerationSettings withSeed(Long s) {
        return new GenerationSettings(prompt, negativePrompt, steps, guidanceScale, guidanceRescale, s, batchSize, scheduler, clipSkip, eta);
    }

    public GenerationSettings withBatchSize(int b) {
        return new GenerationSettings(prompt, negativePrompt, steps, guidanceScale, guidanceRescale, seed, b, scheduler, clipSkip, eta);
    }

    public GenerationSettings withScheduler(String name) {
        return new GenerationSettings(prompt, negativePrompt, steps, guidanceScale, guidanceRescale, seed, batchSize, name, clipSkip, eta);
    }

    public GenerationSettings withClipSkip(int c) {
        return new GenerationSettings(prompt, negativePrompt, steps, guidanceScale, guidanceRescale, seed, batchSize, scheduler, c, eta);
    }

    public GenerationSettings withEta(double e) {
        return new GenerationSettings(prompt, negativePrompt, steps, guidanceScale, guidanceRescale, seed, batchSize, scheduler, clipSkip, e);
    }
}
