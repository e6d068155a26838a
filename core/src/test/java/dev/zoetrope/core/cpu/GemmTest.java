package dev.zoetrope.core.cpu;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Parallel;
import dev.zoetrope.core.cpu.MicroKernels.Tile;
import dev.zoetrope.core.testing.Compare;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GEMM against a double-precision reference: awkward sizes, strided views, dtypes, bias, accumulate, threads. */
class GemmTest {
    private static final double TOLERANCE = 1e-5;
    /** Sizes (m, n, k) around the tile edges, across several K blocks (k > kc) and row blocks, degenerate ones. */
    private static final int[][] SIZES = {
            {1, 1, 1}, {7, 17, 33}, {17, 33, 7}, {33, 7, 17}, {250, 33, 17}, {5, 250, 33}, {6, 16, 1},
            {13, 19, 800}, {530, 40, 50},
    };

    private static Arena arena;
    private static int savedThreads;

    @BeforeAll
    static void setUp() {
        arena = Arena.ofShared();
        savedThreads = Parallel.threads();
    }

    @AfterAll
    static void tearDown() {
        Parallel.setThreads(savedThreads);
        arena.close();
    }

    /** A row-major [rows, cols] matrix stored in some dtype, possibly transposed in memory. */
    private record Matrix(MemorySegment segment, DType type, int rows, int cols, boolean transposed, double[] values) {
        long rowStride() {
            return transposed ? 1 : cols;
        }

        long colStride() {
            return transposed ? rows : 1;
        }

        Panels.Strided strided() {
            return new Panels.Strided(segment, type, 0, rowStride(), colStride());
        }

        double get(int r, int c) {
            return values[r * cols + c];
        }
    }

    /** Random values in [-1, 1), stored as {@code type}; {@code values} holds what the storage represents. */
    private static Matrix matrix(Random rnd, int rows, int cols, DType type, boolean transposed) {
        MemorySegment seg = arena.allocate(Math.max(1L, (long) rows * cols) * type.byteSize(), 16);
        double[] values = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                float v = rnd.nextFloat() * 2 - 1;
                long at = transposed ? (long) c * rows + r : (long) r * cols + c;
                switch (type) {
                    case F32 -> seg.setAtIndex(ValueLayout.JAVA_FLOAT, at, v);
                    case BF16 -> {
                        short bits = DType.floatToBf16(v);
                        seg.setAtIndex(ValueLayout.JAVA_SHORT, at, bits);
                        v = DType.bf16ToFloat(bits);
                    }
                    case F16 -> {
                        short bits = Float.floatToFloat16(v);
                        seg.setAtIndex(ValueLayout.JAVA_SHORT, at, bits);
                        v = Float.float16ToFloat(bits);
                    }
                    default -> throw new AssertionError(type);
                }
                values[r * cols + c] = v;
            }
        }
        return new Matrix(seg, type, rows, cols, transposed, values);
    }

    private static float[] randomArray(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = rnd.nextFloat() * 2 - 1;
        return v;
    }

    private static MemorySegment output(float[] initial) {
        MemorySegment c = arena.allocate(Math.max(1L, initial.length) * 4L, 16);
        MemorySegment.copy(initial, 0, c, ValueLayout.JAVA_FLOAT, 0, initial.length);
        return c;
    }

    private static float[] read(MemorySegment c, int n) {
        float[] out = new float[n];
        MemorySegment.copy(c, ValueLayout.JAVA_FLOAT, 0, out, 0, n);
        return out;
    }

    /** (A·B)[i,j] + colBias[j] + rowBias[i] (+ C0[i,j]) in double. */
    private static double[] reference(Matrix a, Matrix b, float[] rowBias, float[] colBias, float[] c0) {
        int m = a.rows, k = a.cols, n = b.cols;
        double[] ref = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) s += a.get(i, p) * b.get(p, j);
                if (colBias != null) s += colBias[j];
                if (rowBias != null) s += rowBias[i];
                if (c0 != null) s += c0[i * n + j];
                ref[i * n + j] = s;
            }
        }
        return ref;
    }

    private static float[] runTiled(Tile tile, Matrix a, Matrix b, float[] rowBias, float[] colBias, float[] c0) {
        int m = a.rows, n = b.cols;
        MemorySegment c = output(c0 == null ? new float[m * n] : c0);
        Gemm.multiply(m, n, a.cols, a.strided(), b.strided(), c, 0, n, rowBias, colBias, c0 != null, tile);
        return read(c, m * n);
    }

    private static float[] runPublic(Matrix a, Matrix b, float[] rowBias, float[] colBias, float[] c0) {
        int m = a.rows, n = b.cols;
        MemorySegment c = output(c0 == null ? new float[m * n] : c0);
        Gemm.gemm(m, n, a.cols, a.segment, a.type, 0, a.rowStride(), a.colStride(),
                b.segment, b.type, 0, b.rowStride(), b.colStride(), c, 0, n, rowBias, colBias, c0 != null);
        return read(c, m * n);
    }

    @Test
    void rowBlocksBalanceTheThreads() {
        // 1024 rows of 9-row micro-panels (114), at most 4 per block: 4 gives 29 blocks (15 + 14 on two threads,
        // 60 panels on the busier), 3 gives 38 (19 + 19, 57 panels)
        assertEquals(3, Gemm.balancedPanels(114, 4, 2));
        assertEquals(4, Gemm.balancedPanels(114, 4, 1));
        // already balanced: keep the largest blocks
        assertEquals(8, Gemm.balancedPanels(64, 8, 2));
        assertEquals(1, Gemm.balancedPanels(5, 1, 2));
    }

    @Test
    void everyTileMatchesTheReferenceAtAwkwardSizesAndLayouts() {
        Random rnd = new Random(1);
        for (int[] s : SIZES) {
            for (int layout = 0; layout < 4; layout++) {
                boolean ta = (layout & 1) != 0, tb = (layout & 2) != 0;
                Matrix a = matrix(rnd, s[0], s[2], DType.F32, ta);
                Matrix b = matrix(rnd, s[2], s[1], DType.F32, tb);
                double[] ref = reference(a, b, null, null, null);
                for (Tile tile : Tile.values()) {
                    String what = tile + " " + Arrays.toString(s) + (ta ? " Aᵀ" : "") + (tb ? " Bᵀ" : "");
                    Compare.assertRelative(what, runTiled(tile, a, b, null, null, null), ref, TOLERANCE);
                }
                String what = "gemm " + Arrays.toString(s) + (ta ? " Aᵀ" : "") + (tb ? " Bᵀ" : "");
                Compare.assertRelative(what, runPublic(a, b, null, null, null), ref, TOLERANCE);
            }
        }
    }

    @Test
    void columnsBeyondThePackingBudgetAreSplitIntoBlocks() {
        Random rnd = new Random(7);
        int k = 600, n = Gemm.B_BUDGET / k + 45;  // B over all of K exceeds the budget: two column blocks
        Matrix a = matrix(rnd, 9, k, DType.F32, false);
        Matrix b = matrix(rnd, k, n, DType.BF16, true);
        float[] colBias = randomArray(rnd, n);
        double[] ref = reference(a, b, null, colBias, null);
        for (Tile tile : new Tile[] {Gemm.TILE, Tile.SCALAR}) {
            Compare.assertRelative(tile + " n=" + n, runTiled(tile, a, b, null, colBias, null), ref, TOLERANCE);
        }
    }

    @Test
    void halfPrecisionOperandsAreWidenedWhilePacking() {
        Random rnd = new Random(2);
        for (DType type : new DType[] {DType.BF16, DType.F16}) {
            for (boolean transposed : new boolean[] {false, true}) {
                for (int m : new int[] {3, 37}) {
                    Matrix a = matrix(rnd, m, 70, DType.F32, false);
                    Matrix b = matrix(rnd, 70, 45, type, transposed);
                    Compare.assertRelative(type + " B m=" + m + (transposed ? " Bᵀ" : ""),
                            runPublic(a, b, null, null, null), reference(a, b, null, null, null), TOLERANCE);
                    Matrix ah = matrix(rnd, m, 70, type, transposed);
                    Matrix bf = matrix(rnd, 70, 45, DType.F32, false);
                    Compare.assertRelative(type + " A m=" + m + (transposed ? " Aᵀ" : ""),
                            runPublic(ah, bf, null, null, null), reference(ah, bf, null, null, null), TOLERANCE);
                }
            }
        }
    }

    @Test
    void biasIsFusedAndAccumulateAddsToC() {
        Random rnd = new Random(3);
        for (int[] s : new int[][] {{37, 45, 790}, {2, 45, 31}, {29, 21, 0}}) {
            int m = s[0], n = s[1], k = s[2];
            Matrix a = matrix(rnd, m, k, DType.F32, false);
            Matrix b = matrix(rnd, k, n, DType.F32, true);
            float[] rowBias = randomArray(rnd, m), colBias = randomArray(rnd, n), c0 = randomArray(rnd, m * n);
            String what = Arrays.toString(s);
            Compare.assertRelative(what + " column bias", runPublic(a, b, null, colBias, null),
                    reference(a, b, null, colBias, null), TOLERANCE);
            Compare.assertRelative(what + " both biases, accumulate", runPublic(a, b, rowBias, colBias, c0),
                    reference(a, b, rowBias, colBias, c0), TOLERANCE);
            for (Tile tile : Tile.values()) {
                Compare.assertRelative(what + " " + tile + " both biases, accumulate",
                        runTiled(tile, a, b, rowBias, colBias, c0), reference(a, b, rowBias, colBias, c0), TOLERANCE);
            }
        }
    }

    @Test
    void fewRowsStreamTheWeightInEveryDtypeAndLayout() {
        Random rnd = new Random(4);
        for (int m = 1; m <= Gemv.MAX_ROWS; m++) {
            for (int k : new int[] {1, 2, 15, 16, 17, 66, 131}) {
                for (DType type : new DType[] {DType.F32, DType.BF16, DType.F16}) {
                    Matrix a = matrix(rnd, m, k, DType.F32, false);
                    Matrix w = matrix(rnd, k, 70, type, true);  // a weight [out, in] used as Wᵀ
                    float[] colBias = randomArray(rnd, 70), c0 = randomArray(rnd, m * 70);
                    String what = "m=" + m + " k=" + k + " " + type;
                    Compare.assertRelative(what + " Wᵀ", runPublic(a, w, null, null, null),
                            reference(a, w, null, null, null), TOLERANCE);
                    Compare.assertRelative(what + " Wᵀ bias accumulate", runPublic(a, w, null, colBias, c0),
                            reference(a, w, null, colBias, c0), TOLERANCE);
                }
                Matrix a = matrix(rnd, m, k, DType.F32, true);
                Matrix b = matrix(rnd, k, 70, DType.F32, false);
                Compare.assertRelative("m=" + m + " k=" + k + " B rows", runPublic(a, b, null, null, null),
                        reference(a, b, null, null, null), TOLERANCE);
            }
        }
    }

    @Test
    void leadingDimensionAndOffsetLeaveOtherElementsAlone() {
        Random rnd = new Random(5);
        for (int m : new int[] {3, 23}) {
            int n = 19, k = 27, ldc = 24, cOff = 5;
            Matrix a = matrix(rnd, m, k, DType.F32, false);
            Matrix b = matrix(rnd, k, n, DType.F32, false);
            float[] initial = randomArray(rnd, cOff + m * ldc);
            MemorySegment c = output(initial);
            Gemm.gemm(m, n, k, a.segment, 0, k, 1, b.segment, DType.F32, 0, n, 1, c, cOff, ldc, null, false);
            float[] got = read(c, initial.length);
            double[] ref = reference(a, b, null, null, null);
            float[] inside = new float[m * n];
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < ldc; j++) {
                    int at = cOff + i * ldc + j;
                    if (j < n) inside[i * n + j] = got[at];
                    else assertEquals(initial[at], got[at], "m=" + m + ": element past n in row " + i + " was written");
                }
            }
            for (int at = 0; at < cOff; at++) assertEquals(initial[at], got[at], "element before the offset was written");
            Compare.assertRelative("ldc " + ldc + " m=" + m, inside, ref, TOLERANCE);
        }
    }

    @Test
    void resultsAreBitIdenticalForOneAndTwoThreads() {
        Random rnd = new Random(6);
        int[][] sizes = {{67, 150, 790}, {3, 150, 77}, {515, 33, 20}};
        for (int[] s : sizes) {
            Matrix a = matrix(rnd, s[0], s[2], DType.F32, false);
            Matrix b = matrix(rnd, s[2], s[1], DType.BF16, true);
            float[] colBias = randomArray(rnd, s[1]);
            Parallel.setThreads(1);
            float[] one = runPublic(a, b, null, colBias, null);
            Parallel.setThreads(2);
            float[] two = runPublic(a, b, null, colBias, null);
            Parallel.setThreads(savedThreads);
            assertArrayEquals(one, two, "1 vs 2 threads differ for " + Arrays.toString(s));
            assertTrue(Compare.relativeError(one, reference(a, b, null, colBias, null)) <= TOLERANCE);
        }
    }

    @Test
    void badArgumentsAreRejectedWithAClearMessage() {
        MemorySegment seg = arena.allocate(64 * 8);
        var shortBias = assertThrows(IllegalArgumentException.class, () -> Gemm.gemm(4, 8, 2, seg, 0, 2, 1,
                seg, DType.F32, 0, 8, 1, seg, 0, 8, new float[3], false));
        assertTrue(shortBias.getMessage().contains("bias"), shortBias.getMessage());
        var badType = assertThrows(IllegalArgumentException.class, () -> Gemm.gemm(4, 8, 2, seg, 0, 2, 1,
                seg, DType.I64, 0, 8, 1, seg, 0, 8, null, false));
        assertTrue(badType.getMessage().contains("I64"), badType.getMessage());
        var negative = assertThrows(IllegalArgumentException.class, () -> Gemm.gemm(-1, 8, 2, seg, 0, 2, 1,
                seg, DType.F32, 0, 8, 1, seg, 0, 8, null, false));
        assertTrue(negative.getMessage().contains("m=-1"), negative.getMessage());
        var outside = assertThrows(IllegalArgumentException.class, () -> Gemm.gemm(8, 8, 8, seg, 0, 8, 1,
                seg, DType.F32, 0, 8, 1, seg, 100, 8, null, false));
        assertTrue(outside.getMessage().contains("C [8×8]"), outside.getMessage());
    }
}
