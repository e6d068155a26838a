package dev.zoetrope.diffusion.noise;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.SafeTensors;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.testing.Fixtures;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Generator behaviour beyond the fixture files, and the diffusers randn_tensor semantics. */
class TorchGeneratorTest {

    @Test
    void mt19937KnownAnswer() {
        // C++ [rand.predef]: the 10000th output of a default-constructed std::mt19937 (seed 5489) is 4123659995.
        Mt19937 mt = new Mt19937(5489);
        int last = 0;
        for (int i = 0; i < 10000; i++) last = mt.nextInt();
        assertEquals(4123659995L, last & 0xffffffffL);
    }

    @Test
    void manualSeedResetsStreamAndCache() {
        TorchGenerator g = TorchGenerator.seeded(42);
        float[] first = g.randnFloats(3); // leaves a cached normal behind (3 is odd)
        assertSame(g, g.manualSeed(42));
        assertArrayEquals(first, g.randnFloats(3));
        assertEquals(42, g.initialSeed());
        assertEquals("67280421310721", new TorchGenerator().initialSeedString());
    }

    @Test
    void copyIsIndependentAndKeepsTheCache() {
        TorchGenerator g = TorchGenerator.seeded(7);
        g.randnFloats(5); // odd: one cached value pending
        TorchGenerator c = g.copy();
        assertArrayEquals(g.randnFloats(40), c.randnFloats(40));
        assertArrayEquals(g.randnDoubles(3), c.randnDoubles(3));
    }

    @Test
    void seedsAreTakenAsTorchTakesThem() {
        assertEquals(-1L, TorchGenerator.parseSeed("18446744073709551615"));
        assertEquals(Long.MIN_VALUE, TorchGenerator.parseSeed("9223372036854775808"));
        assertEquals("18446744073709551614", TorchGenerator.seeded(-2).initialSeedString());
        assertThrows(IllegalArgumentException.class, () -> TorchGenerator.parseSeed("18446744073709551616"));
        assertThrows(IllegalArgumentException.class, () -> TorchGenerator.parseSeed("-9223372036854775809"));
        assertThrows(IllegalArgumentException.class, () -> TorchGenerator.parseSeed("12abc"));
        assertThrows(IllegalArgumentException.class,
                () -> new TorchGenerator().manualSeed(BigInteger.ONE.shiftLeft(64)));
    }

    @Test
    void randintRanges() {
        assertThrows(IllegalArgumentException.class, () -> TorchGenerator.seeded(0).randintLongs(5, 5, 1));
        // The widest range torch accepts for int64: 2^64 - 1 values, one 64-bit draw each.
        TorchGenerator g = TorchGenerator.seeded(3);
        TorchGenerator twin = TorchGenerator.seeded(3);
        long[] wide = g.randintLongs(Long.MIN_VALUE, Long.MAX_VALUE, 4);
        for (long v : wide) {
            long draw = twin.random64();
            assertEquals(Long.remainderUnsigned(draw, -1L) + Long.MIN_VALUE, v);
        }
        for (long v : TorchGenerator.seeded(1).randintLongs(-3, 4, 200)) assertTrue(v >= -3 && v < 4, "value " + v);
    }

    @Test
    void tensorsHaveTheShapeAndDtypeAsked() {
        try (Scope s = Scope.open()) {
            Tensor t = TorchGenerator.seeded(0).randn(DType.F32, 2, 3, 5);
            assertArrayEquals(new int[] {2, 3, 5}, t.shape());
            assertArrayEquals(TorchGenerator.seeded(0).randnFloats(30), t.toFloatArray());
            assertEquals(DType.I64, TorchGenerator.seeded(0).randint(0, 10, 4).dtype());
            assertEquals(DType.BF16, TorchGenerator.seeded(0).rand(DType.BF16, 3).dtype());
            assertThrows(IllegalArgumentException.class, () -> TorchGenerator.seeded(0).randn(DType.I32, 3));
            assertThrows(IllegalArgumentException.class, () -> TorchGenerator.seeded(0).randn(DType.F32, 2, -1));
            assertEquals(0, TorchGenerator.seeded(0).randn(DType.F32, 0, 4).numel());
        }
    }

    @Test
    void reducedRandHasOnlyTheTypesRandomBits() {
        try (Scope s = Scope.open()) {
            TorchGenerator g = TorchGenerator.seeded(11);
            TorchGenerator twin = TorchGenerator.seeded(11);
            float[] half = g.rand(DType.F16, 64).toFloatArray();
            for (float v : half) assertEquals((twin.random() & 0x7ff) / 2048f, v);
        }
    }

    // ------------------------------------------------------------------ randn_tensor

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
