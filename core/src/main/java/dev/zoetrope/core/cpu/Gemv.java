package dev.zoetrope.core.cpu;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * GEMM with at most {@link #MAX_ROWS} rows of A (an LLM decode step: a linear over a handful of tokens).
 * Packing B would read the weight twice and compute on almost nothing, so instead the weight is streamed once
 * at memory bandwidth and widened in registers: BF16 words are loaded as int pairs and split into the even
 * element ({@code bits << 16}) and the odd one ({@code bits & 0xffff0000}), matched against x pre-split into
 * even and odd halves. Columns of a weight [out, in] are read one after another, so the whole weight is one
 * sequential stream (interleaving several short rows starved the hardware prefetcher). Each output element
 * is one fixed-order dot product computed by one task.
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
                    for (int j = (int) j0; j < j1; j++) {
                        long col = b.offset() + j * b.colStride();
                        for (int r = 0; r < m; r++) out.put(r, j, dotBf16(k, x, r, halves[0], halves[1], b.segment(), col, lanes));
                    }
                });
            } else {
                Parallel.forRange(n, GRAIN, (j0, j1) -> {
                    float[] lanes = new float[Kernels.FLOATS];
                    float[] widened = b.type() == DType.F32 ? null : new float[k];
                    for (int j = (int) j0; j < j1; j++) {
                        long col = b.offset() + j * b.colStride();
                        if (widened != null) Panels.copyRun(b.segment(), b.type(), col, k, widened, 0);
                        for (int r = 0; r < m; r++) out.put(r, j, dotFloat(k, x, r, b.segment(), col, widened, lanes));
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
     * Σ_p x[r, p]·w[col + p] over a BF16 column, with four accumulators (even/odd halves of two interleaved
     * steps) summed in a fixed order, then the scalar tail.
     */
    private static float dotBf16(int k, float[] x, int r, float[] even, float[] odd, MemorySegment w, long col,
                                 float[] lanes) {
        VectorSpecies<Float> f = Kernels.F;
        int l = f.length(), half = k / 2, xBase = r * half;
        int qEnd = half - half % (2 * l);
        FloatVector e0 = FloatVector.zero(f), o0 = e0, e1 = e0, o1 = e0;
        long base = col * 2, last = w.byteSize() - 1;
        int touched = 0;
        for (int q = 0; q < qEnd; q += 2 * l) {
            if (Prefetch.ENABLED && (q & (4 * l - 1)) == 0) touched += w.get(ValueLayout.JAVA_BYTE, Math.min(base + 4L * q + Prefetch.AHEAD_BYTES, last));
            IntVector w0 = IntVector.fromMemorySegment(INTS, w, base + 4L * q, ORDER);
            IntVector w1 = IntVector.fromMemorySegment(INTS, w, base + 4L * (q + l), ORDER);
            e0 = evenHalf(w0).fma(FloatVector.fromArray(f, even, xBase + q), e0);
            o0 = oddHalf(w0).fma(FloatVector.fromArray(f, odd, xBase + q), o0);
            e1 = evenHalf(w1).fma(FloatVector.fromArray(f, even, xBase + q + l), e1);
            o1 = oddHalf(w1).fma(FloatVector.fromArray(f, odd, xBase + q + l), o1);
        }
        Prefetch.keep(touched);
        float tail = 0f;
        for (int p = 2 * qEnd; p < k; p++) tail += x[r * k + p] * bf16(w, col + p);
        return sumLanes(e0.add(o0).add(e1.add(o1)), lanes) + tail;
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

    /**
     * Σ_p x[r, p]·w[col + p] over an F32 column read in place, or over {@code widened} (an F16 column already
     * widened), with four accumulators summed in a fixed order, then the scalar tail.
     */
    private static float dotFloat(int k, float[] x, int r, MemorySegment w, long col, float[] widened, float[] lanes) {
        VectorSpecies<Float> f = Kernels.F;
        int l = f.length(), xBase = r * k, pEnd = k - k % (4 * l);
        FloatVector s0 = FloatVector.zero(f), s1 = s0, s2 = s0, s3 = s0;
        if (widened == null) {
            long base = col * 4;
            for (int p = 0; p < pEnd; p += 4 * l) {
                s0 = FloatVector.fromMemorySegment(f, w, base + 4L * p, ORDER).fma(FloatVector.fromArray(f, x, xBase + p), s0);
                s1 = FloatVector.fromMemorySegment(f, w, base + 4L * (p + l), ORDER).fma(FloatVector.fromArray(f, x, xBase + p + l), s1);
                s2 = FloatVector.fromMemorySegment(f, w, base + 4L * (p + 2 * l), ORDER).fma(FloatVector.fromArray(f, x, xBase + p + 2 * l), s2);
                s3 = FloatVector.fromMemorySegment(f, w, base + 4L * (p + 3 * l), ORDER).fma(FloatVector.fromArray(f, x, xBase + p + 3 * l), s3);
            }
        } else {
            for (int p = 0; p < pEnd; p += 4 * l) {
                s0 = FloatVector.fromArray(f, widened, p).fma(FloatVector.fromArray(f, x, xBase + p), s0);
                s1 = FloatVector.fromArray(f, widened, p + l).fma(FloatVector.fromArray(f, x, xBase + p + l), s1);
                s2 = FloatVector.fromArray(f, widened, p + 2 * l).fma(FloatVector.fromArray(f, x, xBase + p + 2 * l), s2);
                s3 = FloatVector.fromArray(f, widened, p + 3 * l).fma(FloatVector.fromArray(f, x, xBase + p + 3 * l), s3);
            }
        }
        float tail = 0f;
        for (int p = pEnd; p < k; p++) {
            tail += x[xBase + p] * (widened == null ? w.getAtIndex(Kernels.F32, col + p) : widened[p]);
        }
        return sumLanes(s0.add(s1).add(s2.add(s3)), lanes) + tail;
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
