package dev.zoetrope.diffusion.noise;

import dev.zoetrope.core.Json;
import dev.zoetrope.core.SafeTensors;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.noise.TorchGenerator;
import dev.zoetrope.core.testing.Fixtures;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** diffusers' randn_tensor semantics over {@link TorchGenerator}s. */
class NoiseSourceTest {
    @Test
    void oneGeneratorDrawsTheWholeBatchInOneCall() {
        try (Scope s = Scope.open()) {
            Tensor batch = NoiseSource.seeded(0).randn(2, 4, 16, 24);
            assertArrayEquals(TorchGenerator.seeded(0).randnFloats(2 * 4 * 16 * 24), batch.toFloatArray());
            // So the second image is NOT the single-image noise of the same seed.
            float[] single = NoiseSource.seeded(0).randn(1, 4, 16, 24).toFloatArray();
            float[] second = Arrays.copyOfRange(batch.toFloatArray(), single.length, 2 * single.length);
            assertFalse(Arrays.equals(single, second));
            // A list of one is the same as one generator.
            assertArrayEquals(batch.toFloatArray(),
                    NoiseSource.perSample(List.of(TorchGenerator.seeded(0))).randn(2, 4, 16, 24).toFloatArray());
        }
    }

    /**
     * Two seeds of the rng fixtures and a full float32 tensor of shape [1, ...] both record: a batch of two drawn
     * with one generator per entry holds exactly those two tensors.
     */
    @Test
    void aListOfGeneratorsSeedsEachBatchEntry() {
        List<Fixtures.Case> cases = Fixtures.cases("rng", "randn");
        Fixtures.Case first = cases.get(0);
        // torch seeds the engine with the low 32 bits: take a second seed whose stream differs
        Fixtures.Case second = cases.stream().filter(c -> (seed(c) & 0xffffffffL) != (seed(first) & 0xffffffffL)).findFirst()
                .orElseThrow(() -> new AssertionError("the rng fixtures need two seeds with different streams"));
        String tensor = first.manifest().obj("tensors").map().keySet().stream()
                .filter(n -> isFullFloat32WithBatchOne(first, n) && isFullFloat32WithBatchOne(second, n))
                .findFirst().orElseThrow(() -> new AssertionError("no full float32 [1, ...] tensor in both " + first + " and " + second));
        int[] one = first.manifest().obj("tensors").obj(tensor).ints("shape", null);
        int[] two = one.clone();
        two[0] = 2;
        long seed0 = seed(first), seed1 = seed(second);
        try (Scope s = Scope.open();
             SafeTensors a = SafeTensors.open(first.tensors());
             SafeTensors b = SafeTensors.open(second.tensors())) {
            NoiseSource noise = NoiseSource.perSample(List.of(TorchGenerator.seeded(seed0), TorchGenerator.seeded(seed1)));
            Tensor batch = noise.randn(two);
            assertArrayEquals(two, batch.shape());
            assertArrayEquals(a.get(tensor).toFloatArray(), batch.select(0, 0).toFloatArray(), first + "/" + tensor);
            assertArrayEquals(b.get(tensor).toFloatArray(), batch.select(0, 1).toFloatArray(), second + "/" + tensor);
            // The generators advanced: the next draw continues their streams.
            Tensor next = noise.randn(2, 17);
            assertNotEquals(Arrays.toString(next.select(0, 0).toFloatArray()), Arrays.toString(next.select(0, 1).toFloatArray()));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> noise.randn(3, 4));
            assertTrue(e.getMessage().contains("length 2") && e.getMessage().contains("batch size of 3"), e.getMessage());
        }
    }

    private static long seed(Fixtures.Case c) {
        return TorchGenerator.parseSeed(c.manifest().string("seed_str", null));
    }

    private static boolean isFullFloat32WithBatchOne(Fixtures.Case c, String name) {
        Json.Obj t = c.manifest().obj("tensors").obj(name);
        if (t == null || !"full".equals(t.string("kind", "")) || !"float32".equals(t.string("dtype", ""))) return false;
        int[] shape = t.ints("shape", null);
        return shape != null && shape.length >= 2 && shape[0] == 1;
    }
}
