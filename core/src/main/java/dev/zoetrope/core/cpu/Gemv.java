package dev.zoetrope.core.cpu;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * GEMM with at most {@link #MAX_ROWS} rows of A (an LLM decode step: a linear over a handful of tokens).
 * Packing B would read the weight twice and compute on almost nothing, so instead the weight is streamed once
 * at memory bandwidth and widened in registers: BF16 words are loaded as int pairs and split into the even
 * element ({@code bits << 16}) and the odd one ({@code bits & 0xffff0000}), matched against x pre-split into
 * even and odd halves. Each output element is one fixed-order dot product computed by one task.
 */
final class Gemv {
    private Gemv() {
    }

    static final int MAX_ROWS = 4;
    /** Output columns per parallel task; a multiple of the 4-column groups and of 2 vectors. */
    private static final int GRAIN = 64;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final VectorSpecies<Integer> INTS = VectorSpecies.of(int.class, Kernels.F.vectorShape());

    /** True when B is laid out so that this path streams it: each column contiguous, or F32 rows contiguous. */
    static boolean supports(Panels.Strided b) {
        return b.rowStride() == 1 || (b.colStride() == 1 && b.type() == DType.F32);
    }

    static void multiply(int m, int n, int k, Panels.Strided a, Panels.Strided b, MemorySegment c, long cOff, long ldc,
                         float[] rowBias, float[] colBias, boolean accumulate) {
        float[] x = new float[m * k];  // rows of A, widened: x[r·k + p]
        for (int r = 0; r < m; r++) {
            Panels.copyStrided(a.segment(), a.type(), a.offset() + r * a.rowStride(), a.colStride(), k, x, r * k, 1);
        }
        Output out = new Output(c, cOff, ldc, rowBias, colBias, accumulate);
        if (b.rowStride() == 1) {
            if (!Kernels.VECTOR) {
                Parallel.forRange(n, GRAIN, (j0, j1) -> dotScalar(m, k, x, b, (int) j0, (int) j1, out));
            } else if (b.type() == DType.BF16 && ORDER == ByteOrder.LITTLE_ENDIAN) {
                float[][] halves = evenOdd(x, m, k);
                Parallel.forRange(n, GRAIN, (j0, j1) -> {
                    float[] lanes = new float[Kernels.FLOATS];
                    for (int j = (int) j0; j < j1; j += 4) {
                        dotBf16(m, k, x, halves[0], halves[1], b, j, Math.min(4, (int) j1 - j), out, lanes);
                    }
                });
            } else {
                Parallel.forRange(n, GRAIN, (j0, j1) -> {
                    float[] lanes = new float[Kernels.FLOATS];
                    float[] widened = b.type() == DType.F32 ? null : new float[4 * k];
                    for (int j = (int) j0; j < j1; j += 4) {
                        dotFloat(m, k, x, b, j, Math.min(4, (int) j1 - j), out, lanes, widened);
                    }
                });
            }
        } else {
            Parallel.forRange(n, GRAIN, (j0, j1) -> axpy(m, k, x, b, (int) j0, (int) j1, out));
        }
    }

    /** Where results go: {@code dot + colBias[j] + rowBias[i] (+ C)}, the order the tiled path uses. */
    private record Output(MemorySegment c, long cOff, long ldc, float[] rowBias, float[] colBias, boolean accumulate) {
        void put(int i, int j, float dot) {
            long at = cOff + i * ldc + j;
            if (colBias != null) dot += colBias[j];
            if (rowBias != null) dot += rowBias[i];
            if (accumulate) dot += c.getAtIndex(Kernels.F32, at);
            c.setAtIndex(Kernels.F32, at, dot);
        }
    }

    private static void dotScalar(int m, int k, float[] x, Panels.Strided b, int j0, int j1, Output out) {
        for (int j = j0; j < j1; j++) {
            long col = b.offset() + j * b.colStride();
            for (int r = 0; r < m; r++) {
                float s = 0f;
                for (int p = 0; p < k; p++) s += x[r * k + p] * Panels.load(b.segment(), b.type(), col + p);
                out.put(r, j, s);
            }
        }
    }

    /** x split per row into even and odd elements: [0][r·half + q] = x[r·k + 2q], [1][…] = x[r·k + 2q + 1]. */
    private static float[][] evenOdd(float[] x, int m, int k) {
        int half = k / 2;
        float[] even = new float[m * half], odd = new float[m * half];
        for (int r = 0; r < m; r++) {
            for (int q = 0; q < half; q++) {
                even[r * half + q] = x[r * k + 2 * q];
                odd[r * half + q] = x[r * k + 2 * q + 1];
            }
        }
        return new float[][] {even, odd};
    }

    /**
     * Up to 4 BF16 columns [j, j+count) against every row of x. A group short of 4 repeats its last column in the
     * spare slots (each slot's sum is independent), so one code path serves the edge.
     */
    private static void dotBf16(int m, int k, float[] x, float[] even, float[] odd, Panels.Strided b, int j, int count,
                                Output out, float[] lanes) {
        VectorSpecies<Float> f = Kernels.F;
        int l = f.length(), half = k / 2;
        MemorySegment w = b.segment();
        long col0 = b.offset() + j * b.colStride();
        long col1 = b.offset() + (j + Math.min(1, count - 1)) * b.colStride();
        long col2 = b.offset() + (j + Math.min(2, count - 1)) * b.colStride();
        long col3 = b.offset() + (j + Math.min(3, count - 1)) * b.colStride();
        int qEnd = half - half % l;
        for (int r = 0; r < m; r++) {
            FloatVector s0 = FloatVector.zero(f), s1 = s0, s2 = s0, s3 = s0;
            int xBase = r * half;
            for (int q = 0; q < qEnd; q += l) {
                FloatVector xe = FloatVector.fromArray(f, even, xBase + q), xo = FloatVector.fromArray(f, odd, xBase + q);
                long p = 2L * q;
                IntVector w0 = IntVector.fromMemorySegment(INTS, w, (col0 + p) * 2, ORDER);
                IntVector w1 = IntVector.fromMemorySegment(INTS, w, (col1 + p) * 2, ORDER);
                IntVector w2 = IntVector.fromMemorySegment(INTS, w, (col2 + p) * 2, ORDER);
                IntVector w3 = IntVector.fromMemorySegment(INTS, w, (col3 + p) * 2, ORDER);
                s0 = evenHalf(w0).fma(xe, oddHalf(w0).fma(xo, s0));
                s1 = evenHalf(w1).fma(xe, oddHalf(w1).fma(xo, s1));
                s2 = evenHalf(w2).fma(xe, oddHalf(w2).fma(xo, s2));
                s3 = evenHalf(w3).fma(xe, oddHalf(w3).fma(xo, s3));
            }
            float t0 = 0f, t1 = 0f, t2 = 0f, t3 = 0f;
            for (int p = 2 * qEnd; p < k; p++) {
                float xv = x[r * k + p];
                t0 += xv * bf16(w, col0 + p);
                t1 += xv * bf16(w, col1 + p);
                t2 += xv * bf16(w, col2 + p);
                t3 += xv * bf16(w, col3 + p);
            }
            out.put(r, j, sumLanes(s0, lanes) + t0);
            if (count > 1) out.put(r, j + 1, sumLanes(s1, lanes) + t1);
            if (count > 2) out.put(r, j + 2, sumLanes(s2, lanes) + t2);
            if (count > 3) out.put(r, j + 3, sumLanes(s3, lanes) + t3);
        }
    }

    private static FloatVector evenHalf(IntVector pairs) {
        return pairs.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static FloatVector oddHalf(IntVector pairs) {
        return pairs.and(0xffff0000).reinterpretAsFloats();
    }

    private static float bf16(MemorySegment s, long i) {
        return Float.intBitsToFloat(s.getAtIndex(Kernels.I16, i) << 16);
    }

    /** Up to 4 F32 (read in place) or F16 (widened into {@code widened} first) columns against every row of x. */
    private static void dotFloat(int m, int k, float[] x, Panels.Strided b, int j, int count, Output out,
                                 float[] lanes, float[] widened) {
        VectorSpecies<Float> f = Kernels.F;
        int l = f.length();
        MemorySegment w = b.segment();
        long[] col = new long[4];
        for (int s = 0; s < 4; s++) col[s] = b.offset() + (j + Math.min(s, count - 1)) * b.colStride();
        if (widened != null) {
            for (int s = 0; s < 4; s++) Panels.copyStrided(w, b.type(), col[s], 1, k, widened, s * k, 1);
        }
        int pEnd = k - k % l;
        for (int r = 0; r < m; r++) {
            FloatVector s0 = FloatVector.zero(f), s1 = s0, s2 = s0, s3 = s0;
            int xBase = r * k;
            for (int p = 0; p < pEnd; p += l) {
                FloatVector xv = FloatVector.fromArray(f, x, xBase + p);
                if (widened == null) {
                    s0 = FloatVector.fromMemorySegment(f, w, (col[0] + p) * 4, ORDER).fma(xv, s0);
                    s1 = FloatVector.fromMemorySegment(f, w, (col[1] + p) * 4, ORDER).fma(xv, s1);
                    s2 = FloatVector.fromMemorySegment(f, w, (col[2] + p) * 4, ORDER).fma(xv, s2);
                    s3 = FloatVector.fromMemorySegment(f, w, (col[3] + p) * 4, ORDER).fma(xv, s3);
                } else {
                    s0 = FloatVector.fromArray(f, widened, p).fma(xv, s0);
                    s1 = FloatVector.fromArray(f, widened, k + p).fma(xv, s1);
                    s2 = FloatVector.fromArray(f, widened, 2 * k + p).fma(xv, s2);
                    s3 = FloatVector.fromArray(f, widened, 3 * k + p).fma(xv, s3);
                }
            }
            float[] tail = new float[4];
            for (int p = pEnd; p < k; p++) {
                float xv = x[xBase + p];
                for (int s = 0; s < 4; s++) {
                    float wv = widened == null ? w.getAtIndex(Kernels.F32, col[s] + p) : widened[s * k + p];
                    tail[s] += xv * wv;
                }
            }
            FloatVector[] sums = {s0, s1, s2, s3};
            for (int s = 0; s < count; s++) out.put(r, j + s, sumLanes(sums[s], lanes) + tail[s]);
        }
    }

    /** Columns [j0, j1) of an F32 B with contiguous rows: y[r, j…] = Σ_p x[r, p]·B[p, j…], p ascending. */
    private static void axpy(int m, int k, float[] x, Panels.Strided b, int j0, int j1, Output out) {
        MemorySegment w = b.segment();
        long rs = b.rowStride();
        int j = j0;
        if (Kernels.VECTOR) {
            VectorSpecies<Float> f = Kernels.F;
            int l = f.length();
            float[] lanes = new float[2 * l];
            for (; j + 2 * l <= j1; j += 2 * l) {
                long base = b.offset() + j;
                for (int r = 0; r < m; r++) {
                    FloatVector lo = FloatVector.zero(f), hi = lo;
                    for (int p = 0; p < k; p++) {
                        FloatVector xv = FloatVector.broadcast(f, x[r * k + p]);
                        long at = (base + p * rs) * 4;
                        lo = FloatVector.fromMemorySegment(f, w, at, ORDER).fma(xv, lo);
                        hi = FloatVector.fromMemorySegment(f, w, at + 4L * l, ORDER).fma(xv, hi);
                    }
                    lo.intoArray(lanes, 0);
                    hi.intoArray(lanes, l);
                    for (int q = 0; q < 2 * l; q++) out.put(r, j + q, lanes[q]);
                }
            }
        }
        for (; j < j1; j++) {
            long base = b.offset() + j;
            for (int r = 0; r < m; r++) {
                float s = 0f;
                for (int p = 0; p < k; p++) s += x[r * k + p] * w.getAtIndex(Kernels.F32, base + p * rs);
                out.put(r, j, s);
            }
        }
    }

    /** Lane sum in a fixed order (reduceLanes leaves the order open, which could differ between JIT tiers). */
    private static float sumLanes(FloatVector v, float[] lanes) {
        v.intoArray(lanes, 0);
        float s = 0f;
        for (int i = 0; i < v.length(); i++) s += lanes[i];
        return s;
    }
}
