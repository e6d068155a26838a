package dev.zoetrope.diffusion.pipelines;

import dev.zoetrope.core.CheckpointException;
import dev.zoetrope.core.Json;
import dev.zoetrope.core.SafeTensors;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.testing.Fixtures;
import dev.zoetrope.diffusion.noise.NoiseSource;
import dev.zoetrope.media.ImageTensors;
import dev.zoetrope.media.RgbImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Pipeline behaviour beyond the reference numbers: the alternative inpaint blend, cancellation, warnings, errors. */
class PipelineBehaviourTest {
    @TempDir
    Path tmp;

    private static Path tinySd() {
        return SdFixtures.model();
    }

    /**
     * The documented difference of {@link InpaintBlend#BEFORE_STEP} at strength &lt; 1, where the start latents are
     * the noised image everywhere: the UNet sees the same inputs at every step under both rules (so its outputs are
     * bit-identical), the repainted region of the final latents is identical, and only the kept region differs —
     * the encoded image itself under diffusers' rule, the sampler's last estimate under the before-step rule.
     */
    @Test
    void beforeStepBlendDiffersFromDiffusersOnlyInTheKeptRegionAtTheEnd() {
        Fixtures.Case fixture = Fixtures.cases("sd", "inpaint").stream()
                .filter(c -> c.manifest().intValue("unet_in_channels", 0) == 4 && c.manifest().doubleValue("strength", 1) < 1)
                .findFirst().orElseThrow();
        Json.Obj m = fixture.manifest();
        try (SafeTensors data = SafeTensors.open(fixture.tensors());
             StableDiffusion sd = StableDiffusion.load(fixture.modelDir())) {
            RgbImage image = ImageTensors.fromUint8Tensor(data.get("init_image_uint8"));
            RgbImage mask = ImageTensors.fromUint8Tensor(data.get("mask_uint8"));
            // two of four steps: enough to see step 2 take the blended latents, and quick
            InpaintRequest request = InpaintRequest.of(GenerationSettings.of(m.string("prompt", null)).withSteps(4),
                    image, mask).withStrength(0.5).withSize(m.intValue("width", 0), m.intValue("height", 0));

            Map<String, float[]> diffusers = new HashMap<>();
            Map<String, float[]> beforeStep = new HashMap<>();
            ImageResult a = sd.inpaint(request, recording(data, m, diffusers));
            ImageResult b = sd.inpaint(request.withBlend(InpaintBlend.BEFORE_STEP), recording(data, m, beforeStep));

            for (int i = 0; i < 2; i++) {
                assertArrayEquals(diffusers.get(Inspector.UNET_OUT + "#" + i), beforeStep.get(Inspector.UNET_OUT + "#" + i),
                        "UNet output of step " + i);
            }
            float[] maskLatent = diffusers.get(Inspector.MASK_LATENT);
            float[] imageLatents = diffusers.get(Inspector.IMAGE_LATENTS);
            float[] la = a.latents().values(), lb = b.latents().values();
            int plane = maskLatent.length;
            int keptDiffering = 0;
            for (int i = 0; i < la.length; i++) {
                boolean repaint = maskLatent[i % plane] == 1f;
                if (repaint) {
                    assertEquals(la[i], lb[i], "repainted latent " + i);
                } else {
                    assertEquals(imageLatents[i], la[i], "diffusers keeps the encoded image at " + i);
                    if (la[i] != lb[i]) keptDiffering++;
                }
            }
            assertTrue(keptDiffering > 0, "the before-step rule should not paste the clean image latents at the end");
        }
    }

    /** Run options that feed the case's recorded noise (in call order) and keep copies of the intermediates. */
    private static RunOptions recording(SafeTensors data, Json.Obj manifest, Map<String, float[]> seen) {
        List<String> names = new ArrayList<>();
        for (Object o : manifest.list("randn_calls")) names.add(Json.Obj.of(o).string("name", null));
        int[] next = {0};
        NoiseSource noise = (dtype, shape) -> {
            Tensor t = data.get(names.get(next[0]++));
            assertArrayEquals(t.shape(), shape);
            return Tensor.of(t.toFloatArray(), shape.clone());
        };
        return RunOptions.defaults().withNoise(noise)
                .withInspector((name, step, value) -> seen.put(step < 0 ? name : name + "#" + step, value.toFloatArray()));
    }

    @Test
    void cancellingBetweenStepsStopsWithTheStepNamed() {
        try (StableDiffusion sd = StableDiffusion.load(tinySd())) {
            CancellationToken cancel = new CancellationToken();
            List<Integer> steps = new ArrayList<>();
            RunOptions options = RunOptions.defaults().withCancellation(cancel).withProgress(step -> {
                steps.add(step.step());
                if (step.step() == 1) cancel.cancel();
            });
            GenerationSettings s = GenerationSettings.of("a red robot").withSeed(7L).withSteps(3);
            CancellationException e = assertThrows(CancellationException.class,
                    () -> sd.txt2img(Txt2ImgRequest.of(s).withSize(16, 16), options));
            assertEquals("generation cancelled before step 2 of 3", e.getMessage());
            assertEquals(List.of(0, 1), steps);
        }
    }

    @Test
    void longPromptIsTruncatedWithAWarningNamingTheDroppedText() {
        try (StableDiffusion sd = StableDiffusion.load(tinySd())) {
            String prompt = "a red robot " + "painting ".repeat(80) + "THE END";
            List<String> warnings = new ArrayList<>();
            RunOptions options = RunOptions.defaults().withProgress(new ProgressListener() {
                @Override
                public void onStep(Step step) {
                }

                @Override
                public void onWarning(String message) {
                    warnings.add(message);
                }
            });
            ImageResult r = sd.txt2img(Txt2ImgRequest.of(GenerationSettings.of(prompt).withSeed(1L).withSteps(1))
                    .withSize(16, 16), options);
            assertEquals(1, warnings.size(), warnings.toString());
            assertTrue(warnings.get(0).contains("the end"), warnings.get(0));
            assertEquals(1, r.images().size());
            assertEquals(16, r.images().get(0).width());
        }
    }

    @Test
    void seedAndSettingsAreReportedInA1111Format() {
        try (StableDiffusion sd = StableDiffusion.load(tinySd())) {
            GenerationSettings s = GenerationSettings.of("a red robot").withNegativePrompt("blurry").withSteps(2)
                    .withBatchSize(2).withScheduler("euler-a").withClipSkip(1);
            ImageResult r = sd.txt2img(Txt2ImgRequest.of(s).withSize(16, 24));
            assertEquals(2, r.images().size());
            int f = sd.vaeScaleFactor(), channels = sd.vae().config().latentChannels();
            assertArrayEquals(new int[] {2, channels, 24 / f, 16 / f}, r.latents().shape());
            assertTrue(r.seed() != null && r.seed() >= 0 && r.seed() < (1L << 32));
            assertEquals("a red robot\nNegative prompt: blurry\nSteps: 2, Sampler: Euler a, CFG scale: 7.5, Seed: " + r.seed()
                            + ", Size: 16x24, Model: " + tinySd().getFileName() + ", Clip skip: 2, Batch size: 2, Batch pos: 1,"
                            + " Version: zoetrope",
                    r.parameters(1));
            // the same seed reproduces the run bit for bit (kernels are deterministic, whatever the JIT tier)
            ImageResult again = sd.txt2img(Txt2ImgRequest.of(s.withSeed(r.seed())).withSize(16, 24));
            assertEquals(r.latents(), again.latents());
            assertEquals(r.images(), again.images());
        }
    }

    @Test
    void initialLatentsReplaceTheSeedsNoise() {
        try (StableDiffusion sd = StableDiffusion.load(tinySd()); dev.zoetrope.core.Scope s = dev.zoetrope.core.Scope.open()) {
            GenerationSettings settings = GenerationSettings.of("a red robot").withSteps(1).withSeed(3L);
            int f = sd.vaeScaleFactor(), channels = sd.vae().config().latentChannels();
            float[] values = new float[channels * (16 / f) * (16 / f)];
            for (int i = 0; i < values.length; i++) values[i] = (float) Math.sin(i);
            Latents given = new Latents(new int[] {1, channels, 16 / f, 16 / f}, values);
            List<float[]> start = new ArrayList<>();
            RunOptions options = RunOptions.defaults().withInspector((name, step, v) -> {
                if (name.equals(Inspector.LATENTS_START)) start.add(v.toFloatArray());
            });
            sd.txt2img(Txt2ImgRequest.of(settings).withSize(16, 16).withInitialLatents(given), options);
            assertArrayEquals(values, start.get(0));

            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> sd.txt2img(
                    Txt2ImgRequest.of(settings).withSize(16, 32).withInitialLatents(given)));
            assertTrue(e.getMessage().contains(Arrays.toString(new int[] {1, channels, 32 / f, 16 / f})), e.getMessage());
        }
    }

    @Test
    void sizesNotDivisibleByEightAndInpaintingModelsAreRefused() {
        try (StableDiffusion sd = StableDiffusion.load(tinySd())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> sd.txt2img(Txt2ImgRequest.of(GenerationSettings.of("x")).withSize(20, 16)));
            assertTrue(e.getMessage().contains("divisible by 8"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> sd.txt2img(
                    Txt2ImgRequest.of(GenerationSettings.of("x").withScheduler("heun")).withSize(16, 16)));
            assertTrue(e.getMessage().contains("dpmpp-2m-karras"), e.getMessage());
        }
        try (StableDiffusion inpainting = StableDiffusion.load(SdFixtures.inpaintingModel())) {
            assertTrue(inpainting.isInpaintingModel());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> inpainting.txt2img(Txt2ImgRequest.of(GenerationSettings.of("x")).withSize(16, 16)));
            assertTrue(e.getMessage().contains("inpainting model"), e.getMessage());
        }
    }

    /** Each missing piece of a diffusers folder is named. */
    @Test
    void missingComponentsAreNamed() throws IOException {
        Path copy = copyOf(tinySd(), tmp.resolve("no-vae"));
        deleteTree(copy.resolve("vae"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> StableDiffusion.load(copy));
        assertTrue(e.getMessage().contains("component 'vae'") && e.getMessage().contains(copy.resolve("vae").toString()),
                e.getMessage());

        Path noWeights = copyOf(tinySd(), tmp.resolve("no-unet-weights"));
        Files.delete(noWeights.resolve("unet/diffusion_pytorch_model.safetensors"));
        e = assertThrows(CheckpointException.class, () -> StableDiffusion.load(noWeights));
        assertTrue(e.getMessage().contains(noWeights.resolve("unet").toString()), e.getMessage());

        Path noIndex = copyOf(tinySd(), tmp.resolve("no-index"));
        Files.delete(noIndex.resolve("model_index.json"));
        e = assertThrows(CheckpointException.class, () -> StableDiffusion.load(noIndex));
        assertTrue(e.getMessage().contains("model_index.json"), e.getMessage());

        Path nullEntry = copyOf(tinySd(), tmp.resolve("null-tokenizer"));
        Path index = nullEntry.resolve("model_index.json");
        Map<String, Object> entries = Json.parseObject(Files.readString(index));
        entries.put("tokenizer", Arrays.asList(Json.NULL, Json.NULL));
        Files.writeString(index, Json.write(entries));
        e = assertThrows(CheckpointException.class, () -> StableDiffusion.load(nullEntry));
        assertTrue(e.getMessage().contains("component 'tokenizer' is missing"), e.getMessage());

        e = assertThrows(CheckpointException.class, () -> StableDiffusion.load(tmp.resolve("nothing-here")));
        assertTrue(e.getMessage().contains("nothing-here"), e.getMessage());
    }

    static Path copyOf(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(target);
                else Files.copy(p, target);
            }
        }
        return to;
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted((x, y) -> y.getNameCount() - x.getNameCount()).toList()) Files.delete(p);
        }
    }

    @Test
    void unknownSchedulerClassesNeedAnExplicitChoice() throws IOException {
        Path copy = copyOf(tinySd(), tmp.resolve("heun-model"));
        Path config = copy.resolve("scheduler/scheduler_config.json");
        Files.writeString(config, Files.readString(config).replace("DDIMScheduler", "HeunDiscreteScheduler"));
        try (StableDiffusion sd = StableDiffusion.load(copy)) {
            GenerationSettings s = GenerationSettings.of("x").withSteps(1).withSeed(1L);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> sd.txt2img(Txt2ImgRequest.of(s).withSize(16, 16)));
            assertTrue(e.getMessage().contains("HeunDiscreteScheduler") && e.getMessage().contains("euler-a"), e.getMessage());
            ImageResult r = sd.txt2img(Txt2ImgRequest.of(s.withScheduler("ddim")).withSize(16, 16));
            assertEquals("DDIM", r.sampler());
            assertFalse(r.images().isEmpty());
        }
    }
}
