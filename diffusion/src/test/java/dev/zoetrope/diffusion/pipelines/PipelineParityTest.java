package dev.zoetrope.diffusion.pipelines;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Json;
import dev.zoetrope.core.SafeTensors;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.testing.Compare;
import dev.zoetrope.core.testing.Fixtures;
import dev.zoetrope.diffusion.noise.NoiseSource;
import dev.zoetrope.media.ImageTensors;
import dev.zoetrope.media.RgbImage;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The three pipelines against diffusers for every txt2img, img2img and inpaint case of the sd fixtures: the case's
 * recorded noise goes in through the run's noise source (the path a seed's generator normally takes), in the
 * manifest's randn call order; every stored tensor (prompt embeddings, masks, image latents, start latents, the
 * first raw UNet output, the latents after each step, the final latents and the float image) is compared with the
 * manifest's suggested tolerance, and the 8-bit images with the float image.
 */
class PipelineParityTest {
    static Stream<Fixtures.Case> cases() {
        return Stream.of("txt2img", "img2img", "inpaint").flatMap(kind -> Fixtures.cases("sd", kind).stream());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void pipeline(Fixtures.Case fixture) {
        Json.Obj m = fixture.manifest();
        Json.Obj tol = m.obj("suggested_tolerance");
        double atol = tol.doubleValue("atol", Double.NaN);
        double rtol = tol.doubleValue("rtol", Double.NaN);
        try (SafeTensors data = SafeTensors.open(fixture.tensors());
             SafeTensors prompts = SafeTensors.open(data.names().contains("prompt_embeds") ? fixture.tensors()
                     : SdFixtures.promptEmbeddingsFor(m).tensors());
             StableDiffusion sd = StableDiffusion.load(fixture.modelDir());
             Scope scope = Scope.open()) {
            GenerationSettings settings = GenerationSettings.of(m.string("prompt", null))
                    .withNegativePrompt(m.string("negative_prompt", null))
                    .withSteps(m.intValue("num_inference_steps", -1))
                    .withGuidanceScale(m.doubleValue("guidance_scale", Double.NaN))
                    .withEta(m.doubleValue("eta", 0));
            Map<String, Latents> seen = new HashMap<>();   // copies on the heap: the run's scope closes
            List<Double> timesteps = new ArrayList<>();
            Inspector inspector = (name, step, value) -> {
                String key = step < 0 ? name : name + "#" + step;
                seen.put(key, Latents.of(value));
            };
            ProgressListener progress = step -> {
                if (step.step() > 0) timesteps.add(step.timestep());
            };
            RecordedNoise noise = new RecordedNoise(data, m);
            RunOptions options = RunOptions.defaults().withNoise(noise).withInspector(inspector).withProgress(progress);

            ImageResult result = switch (fixture.kind()) {
                case "txt2img" -> sd.txt2img(new Txt2ImgRequest(settings, m.intValue("width", 0), m.intValue("height", 0),
                        Latents.of(data.get("latents_in"))), options);
                case "img2img" -> sd.img2img(Img2ImgRequest.of(settings, image(data, "init_image_uint8"))
                        .withStrength(m.doubleValue("strength", Double.NaN)), options);
                case "inpaint" -> sd.inpaint(InpaintRequest.of(settings, image(data, "init_image_uint8"),
                                image(data, "mask_uint8"))
                        .withStrength(m.doubleValue("strength", Double.NaN))
                        .withSize(m.intValue("width", 0), m.intValue("height", 0)), options);
                default -> throw new IllegalStateException("unexpected kind " + fixture.kind());
            };
            noise.assertAllUsed();

            List<Double> expectedTimesteps = new ArrayList<>();
            for (Object t : m.list("timesteps_run")) expectedTimesteps.add(((Number) t).doubleValue());
            assertEquals(expectedTimesteps, timesteps, fixture + ": timesteps run");

            String c = fixture.name() + "/";
            Compare.assertClose(c + "prompt_embeds", seen(seen, Inspector.PROMPT_EMBEDS), prompts.get("prompt_embeds"), atol, rtol);
            Compare.assertClose(c + "negative_prompt_embeds", seen(seen, Inspector.NEGATIVE_PROMPT_EMBEDS),
                    prompts.get("negative_prompt_embeds"), atol, rtol);
            for (String name : List.of("mask_condition", "mask_latent", "masked_image_latents", "image_latents",
                    "latents_start")) {
                if (data.names().contains(name)) {
                    assertTrue(seen.containsKey(name), c + name + " was not produced");
                    Compare.assertClose(c + name, seen(seen, name), data.get(name), atol, rtol);
                }
            }
            Compare.assertClose(c + "unet_out_step0", seen(seen, Inspector.UNET_OUT + "#0"), data.get("unet_out_step0"), atol, rtol);
            Tensor steps = data.get("step_latents");
            assertEquals(steps.dim(0), timesteps.size(), c + "number of steps");
            for (int i = 0; i < steps.dim(0); i++) {
                Compare.assertClose(c + "step_latents[" + i + "]", seen(seen, Inspector.STEP_LATENTS + "#" + i),
                        steps.select(0, i), atol, rtol);
            }
            Compare.assertClose(c + "latents_out", result.latents().toTensor(), data.get("latents_out"), atol, rtol);
            Tensor image = data.get("image");
            Compare.assertClose(c + "image", seen(seen, Inspector.IMAGE), image, atol, rtol);

            // 8-bit output: round(x·255) of a value within atol of the reference → at most one level off
            assertEquals(1, result.images().size());
            RgbImage out = result.images().get(0);
            assertEquals(image.dim(2), out.width());
            assertEquals(image.dim(1), out.height());
            float[] ref = image.toFloatArray();
            byte[] px = out.pixels();
            for (int i = 0; i < ref.length; i++) {
                if (Math.abs((px[i] & 0xff) - ref[i] * 255) > 1) {
                    fail(c + "8-bit image value " + (px[i] & 0xff) + " at " + i + ", reference " + ref[i] * 255);
                }
            }
        }
    }

    private static Tensor seen(Map<String, Latents> seen, String name) {
        Latents l = seen.get(name);
        if (l == null) fail(name + " was not produced");
        return l.toTensor();
    }

    /** An [H, W, 3] image or [H, W] grey mask tensor as the PIL image the reference was given. */
    private static RgbImage image(SafeTensors data, String name) {
        return ImageTensors.fromUint8Tensor(data.get(name));
    }

    /** The case's recorded randn_tensor results, handed out in the manifest's call order with shape checks. */
    private static final class RecordedNoise implements NoiseSource {
        private final SafeTensors data;
        private final List<Json.Obj> calls = new ArrayList<>();
        private int next;

        RecordedNoise(SafeTensors data, Json.Obj manifest) {
            this.data = data;
            List<Object> list = manifest.list("randn_calls");
            if (list != null) for (Object o : list) calls.add(Json.Obj.of(o));
        }

        @Override
        public Tensor randn(DType dtype, int... shape) {
            assertEquals(DType.F32, dtype, "diffusers draws float32 noise in a float32 pipeline");
            if (next >= calls.size()) {
                fail("randn call #" + next + " " + Arrays.toString(shape) + ": diffusers made only " + calls.size());
            }
            Json.Obj call = calls.get(next++);
            Tensor t = data.get(call.string("name", null));
            assertArrayEquals(t.shape(), shape, "randn call #" + (next - 1) + " (" + call.string("role", "") + ") shape");
            return Tensor.of(t.toFloatArray(), shape.clone());
        }

        void assertAllUsed() {
            assertEquals(calls.size(), next, "randn calls made");
        }
    }
}
