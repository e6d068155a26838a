package dev.zoetrope.diffusion.noise;

import dev.zoetrope.core.SafeTensors;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.noise.TorchGenerator;
import dev.zoetrope.core.testing.Fixtures;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
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

    @Test
    void aListOfGeneratorsSeedsEachBatchEntry() {
        Path rng = Fixtures.folder("rng");
        try (Scope s = Scope.open();
             SafeTensors seed0 = SafeTensors.open(rng.resolve("cases/randn_seed_0.safetensors"));
             SafeTensors seed1 = SafeTensors.open(rng.resolve("cases/randn_seed_1.safetensors"))) {
            NoiseSource noise = NoiseSource.perSample(List.of(TorchGenerator.seeded(0), TorchGenerator.seeded(1)));
            Tensor batch = noise.randn(2, 4, 8, 8);
            assertArrayEquals(new int[] {2, 4, 8, 8}, batch.shape());
            assertArrayEquals(seed0.get("float32__1x4x8x8").toFloatArray(), batch.select(0, 0).toFloatArray());
            assertArrayEquals(seed1.get("float32__1x4x8x8").toFloatArray(), batch.select(0, 1).toFloatArray());
            // The generators advanced: the next draw continues their streams.
            Tensor next = noise.randn(2, 17);
            assertNotEquals(Arrays.toString(next.select(0, 0).toFloatArray()), Arrays.toString(next.select(0, 1).toFloatArray()));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> noise.randn(3, 4));
            assertTrue(e.getMessage().contains("length 2") && e.getMessage().contains("batch size of 3"), e.getMessage());
        }
    }
}
