package dev.zoetrope.diffusion.schedulers;

import dev.zoetrope.core.Json;
import dev.zoetrope.core.Ops;
import dev.zoetrope.core.SafeTensors;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.testing.Compare;
import dev.zoetrope.core.testing.Fixtures;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The scheduler as the fixture pipelines used it (every sd/ and video/ case whose manifest lists {@code
 * timesteps_run}): the timesteps the pipeline ran — with img2img's strength rule where a strength is given —
 * must come out exactly; where the first UNet/transformer output is stored, the first step after
 * classifier-free guidance must reproduce the stored latents; where the image latents and the latent noise
 * are stored, add_noise must reproduce the start latents.
 */
class PipelineScheduleFixtureTest {

    @TestFactory
    Stream<DynamicTest> pipelineCases() {
        List<Fixtures.Case> cases = new ArrayList<>();
        for (String folder : new String[] {"sd", "video"}) {
            for (Fixtures.Case c : Fixtures.cases(folder, null)) {
                if (c.manifest().has("timesteps_run")) cases.add(c);
            }
        }
        assertFalse(cases.isEmpty(), "no pipeline cases with timesteps_run");
        return cases.stream().map(c -> DynamicTest.dynamicTest(c.folder().getFileName() + "/" + c.name(), () -> check(c)));
    }

    private static void check(Fixtures.Case c) {
        Json.Obj m = c.manifest();
        Json.Obj tol = m.obj("suggested_tolerance");
        double atol = tol.doubleValue("atol", 0), rtol = tol.doubleValue("rtol", 0);
        int n = m.intValue("num_inference_steps", -1);
        double[] expected = m.list("timesteps_run").stream().mapToDouble(v -> ((Number) v).doubleValue()).toArray();
        try (Scope scope = Scope.open();
             Scheduler scheduler = Schedulers.load(c.modelDir(), "default");
             SafeTensors t = SafeTensors.open(c.tensors())) {
            scheduler.setTimesteps(n);
            double[] run = m.has("strength") ? scheduler.timestepsForStrength(m.doubleValue("strength", 1))
                    : scheduler.timesteps();
            assertArrayEquals(expected, run, 0.0, c.name() + " timesteps_run");

            String latentNoise = randnCall(m, "latent_noise");
            if (t.has("image_latents") && latentNoise != null && t.has(latentNoise) && t.has("latents_start")
                    && m.doubleValue("strength", 1) < 1) {
                Tensor start = scheduler.addNoise(t.get("image_latents"), t.get(latentNoise), run[0]);
                Compare.assertClose(c.name() + " latents_start", start, t.get("latents_start"), atol, rtol);
            }

            String out = t.has("unet_out_step0") ? "unet_out_step0" : t.has("transformer_out_step0") ? "transformer_out_step0" : null;
            String in = t.has("latents_in") ? "latents_in" : t.has("latents_start") ? "latents_start" : null;
            // 4-channel inpainting blends the known region back in after each step: that is pipeline work
            boolean blended = c.kind().equals("inpaint") && unetInChannels(c) == 4;
            if (out == null || in == null || !t.has("step_latents") || blended) return;
            Tensor latents = t.get(in);
            if (in.equals("latents_in")) latents = Ops.scale(latents, scheduler.initNoiseSigma());
            Tensor noisePred = t.get(out);
            if (noisePred.dim(0) == 2 * latents.dim(0)) { // classifier-free guidance, batch [uncond, cond]
                float g = (float) m.doubleValue("guidance_scale", 1);
                Tensor uncond = noisePred.narrow(0, 0, latents.dim(0));
                Tensor cond = noisePred.narrow(0, latents.dim(0), latents.dim(0));
                noisePred = Ops.axpby(1f, uncond, g, Ops.sub(cond, uncond));
            }
            if (noisePred.dim(1) > latents.dim(1)) noisePred = noisePred.narrow(1, 0, latents.dim(1)); // learned sigma
            Tensor prev = scheduler.step(noisePred, run[0], latents).prevSample();
            Compare.assertClose(c.name() + " step_latents[0]", prev, t.get("step_latents").select(0, 0), atol, rtol);
        }
    }

    /** The tensor name of the manifest's randn call with the given role (e.g. "latent_noise"), or null. */
    private static String randnCall(Json.Obj manifest, String role) {
        List<Object> calls = manifest.list("randn_calls");
        if (calls == null) return null;
        for (Object o : calls) {
            Json.Obj call = Json.Obj.of(o);
            if (role.equals(call.string("role", null))) return call.string("name", null);
        }
        return null;
    }

    private static int unetInChannels(Fixtures.Case c) {
        return Fixtures.json(c.modelDir().resolve("unet").resolve("config.json")).intValue("in_channels", 4);
    }
}
