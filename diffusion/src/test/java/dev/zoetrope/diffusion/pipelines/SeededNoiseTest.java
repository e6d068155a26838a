package dev.zoetrope.diffusion.pipelines;

import dev.zoetrope.core.Json;
import dev.zoetrope.core.SafeTensors;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.noise.TorchGenerator;
import dev.zoetrope.core.testing.Fixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A seed gives the starting latents torch gives: for every randn case of the rng fixtures and every float32 latent
 * shape [N, C, h, w] it records (C = the model's latent channels), txt2img on the tiny model with that seed, batch N and size (w·f)×(h·f) starts
 * from exactly {@code torch.randn(shape, generator=torch.Generator("cpu").manual_seed(seed))} (bit for bit; full
 * tensors, or the recorded first/last 256 values of the 512×512-image latents). Each run is cancelled at step 0,
 * which also checks that cancellation stops before the first UNet call.
 */
class SeededNoiseTest {
    static List<Fixtures.Case> cases() {
        return Fixtures.cases("rng", "randn");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void startingLatentsAreTorchRandn(Fixtures.Case fixture) {
        Json.Obj manifest = fixture.manifest();
        long seed = TorchGenerator.parseSeed(manifest.string("seed_str", null));
        int checked = 0;
        try (SafeTensors data = SafeTensors.open(fixture.tensors());
             StableDiffusion sd = StableDiffusion.load(SdFixtures.model())) {
            int f = sd.vaeScaleFactor(), channels = sd.vae().config().latentChannels();
            for (Map.Entry<String, Object> e : manifest.obj("tensors").map().entrySet()) {
                Json.Obj t = Json.Obj.of(e.getValue());
                String kind = t.string("kind", "");
                if (!t.string("dtype", "").equals("float32") || !List.of("full", "head", "tail").contains(kind)) continue;
                int[] shape = t.ints(t.has("full_shape") ? "full_shape" : "shape", null);
                if (shape.length != 4 || shape[1] != channels) continue;

                float[] start = startingLatents(sd, seed, shape[0], shape[3] * f, shape[2] * f);
                float[] expected = data.get(e.getKey()).toFloatArray();
                float[] actual = switch (kind) {
                    case "head" -> Arrays.copyOfRange(start, 0, expected.length);
                    case "tail" -> Arrays.copyOfRange(start, start.length - expected.length, start.length);
                    default -> start;
                };
                assertEquals((int) Tensor.numel(shape), start.length, e.getKey() + ": latent size");
                for (int i = 0; i < expected.length; i++) {
                    if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                        throw new AssertionError(fixture.name() + "/" + e.getKey() + ": value " + i + " is " + actual[i]
                                + ", torch gives " + expected[i]);
                    }
                }
                checked++;
            }
        }
        assertTrue(checked > 0, fixture.name() + ": no float32 latent-shaped tensors to check");
    }

    /** The run's starting latents, cancelling before the first denoising step. */
    private static float[] startingLatents(StableDiffusion sd, long seed, int batch, int width, int height) {
        CancellationToken cancel = new CancellationToken();
        List<float[]> start = new ArrayList<>();
        RunOptions options = RunOptions.defaults().withCancellation(cancel).withProgress(step -> {
            if (step.step() == 0) {
                start.add(step.latents().toFloatArray());
                cancel.cancel();
            }
        });
        // DDIM (the tiny model's scheduler) has init_noise_sigma 1, so the start is the draw itself
        GenerationSettings settings = GenerationSettings.of("a red robot").withSeed(seed).withBatchSize(batch).withSteps(2);
        CancellationException e = assertThrows(CancellationException.class,
                () -> sd.txt2img(Txt2ImgRequest.of(settings).withSize(width, height), options));
        assertTrue(e.getMessage().contains("step 1 of 2"), e.getMessage());
        assertFalse(start.isEmpty(), "no step-0 progress event");
        return start.get(0);
    }
}
