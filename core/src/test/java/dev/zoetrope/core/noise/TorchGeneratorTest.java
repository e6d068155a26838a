package dev.zoetrope.core.noise;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Generator behaviour beyond the fixture files. */
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

    /**
     * torch's default CPU exponential_: after {@code torch.manual_seed(42); torch.rand(5)},
     * {@code torch.empty(5).exponential_(1)} printed [1.6459, 0.4294, 0.0677, 1.3809, 0.7803] with torch 2.6.0
     * (pytorch/pytorch issue 150538, where torch.rand(5) printed [0.8823, 0.9150, 0.3829, 0.9593, 0.3904]).
     */
    @Test
    void exponentialMatchesTorchsDefaultCpuKernel() {
        TorchGenerator g = TorchGenerator.seeded(42);
        float[] rand = g.randFloats(5);
        float[] expectedRand = {0.8823f, 0.9150f, 0.3829f, 0.9593f, 0.3904f};
        float[] exponential = g.exponentialFloats(5, 1.0);
        float[] expected = {1.6459f, 0.4294f, 0.0677f, 1.3809f, 0.7803f};
        for (int i = 0; i < 5; i++) {
            assertEquals(expectedRand[i], rand[i], 5e-5);
            assertEquals(expected[i], exponential[i], 5e-5);
        }
        // λ scales the variates: -log1p(-u)/λ from the same 53-bit uniforms
        TorchGenerator a = TorchGenerator.seeded(3), b = TorchGenerator.seeded(3);
        float[] one = a.exponentialFloats(20, 1.0), two = b.exponentialFloats(20, 2.0);
        for (int i = 0; i < 20; i++) assertEquals(one[i] / 2, two[i], Math.ulp(one[i]));
        assertThrows(IllegalArgumentException.class, () -> a.exponentialFloats(3, 0));
    }

    @Test
    void multinomialRefusesWhatTorchRefusesAndNeverDrawsAZeroProbability() {
        TorchGenerator g = TorchGenerator.seeded(5);
        assertThrows(IllegalArgumentException.class, () -> g.multinomialOne(new float[] {0.5f, Float.NaN}));
        assertThrows(IllegalArgumentException.class, () -> g.multinomialOne(new float[] {0.5f, -0.1f}));
        assertThrows(IllegalArgumentException.class, () -> g.multinomialOne(new float[] {Float.POSITIVE_INFINITY, 1f}));
        assertThrows(IllegalArgumentException.class, () -> g.multinomialOne(new float[] {0f, 0f}));
        for (int i = 0; i < 1000; i++) assertEquals(1, g.multinomialOne(new float[] {0f, 2f, 0f}) == 1 ? 1 : 0);
    }
}
