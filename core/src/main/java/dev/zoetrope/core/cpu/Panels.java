package dev.zoetrope.core.cpu;

import dev.zoetrope.core.DType;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Writers of GEMM operands into the packed layouts the micro-kernels read. A packed A micro-panel holds
 * {@code mr} rows × kc, row by row: element (r, p) at {@code r·pitch + p} (the kernel broadcasts single
 * values, so A needs no transposition and a row-major A packs by plain copies). A packed B panel holds kc × {@code nr}
 * columns: element (p, j) at {@code p·nr + j}, one vector-friendly row of the panel per step of p. Rows or columns past the matrix edge are written as zeros, so the
 * micro-kernel always runs a full tile. Anything that can produce such panels (a strided matrix of any float
 * dtype, an implicit im2col) can feed {@link Gemm}.
 */
final class Panels {
    private Panels() {
    }

    /** Source of the left operand A[m×k]. */
    interface A {
        /** Packs rows [i0, i0+rows) × columns [p0, p0+kc) into dst at off as an mr-row micro-panel. */
        void packRows(int i0, int rows, int p0, int kc, int mr, int pitch, float[] dst, int off);
    }

    /** Source of the right operand B[k×n]. */
    interface B {
        /** Packs rows [p0, p0+kc) × columns [j0, j0+cols) into dst at off as an nr-column panel. */
        void packColumns(int p0, int kc, int j0, int cols, int nr, float[] dst, int off);
    }

    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    /**
     * A matrix stored at element {@code offset} of a segment with element strides (rowStride, colStride) in
     * F32, F16 or BF16; transposed views are just swapped strides. Values are widened to F32 while packing.
     */
    record Strided(MemorySegment segment, DType type, long offset, long rowStride, long colStride) implements A, B {
        Strided {
            if (type != DType.F32 && type != DType.F16 && type != DType.BF16) {
                throw new IllegalArgumentException("GEMM operands must be F32, F16 or BF16, got " + type);
            }
        }

        /** Element (row, col) widened to float. */
        float get(long row, long col) {
            return load(segment, type, offset + row * rowStride + col * colStride);
        }

        @Override
        public void packRows(int i0, int rows, int p0, int kc, int mr, int pitch, float[] dst, int off) {
            long base = offset + i0 * rowStride + (long) p0 * colStride;
            for (int r = 0; r < rows; r++) {
                long start = base + r * rowStride;
                if (colStride == 1) copyRun(segment, type, start, kc, dst, off + r * pitch);
                else copyStrided(segment, type, start, colStride, kc, dst, off + r * pitch, 1);
            }
            for (int r = rows; r < mr; r++) java.util.Arrays.fill(dst, off + r * pitch, off + r * pitch + kc, 0f);
        }

        @Override
        public void packColumns(int p0, int kc, int j0, int cols, int nr, float[] dst, int off) {
            long base = offset + (long) p0 * rowStride + (long) j0 * colStride;
            if (colStride == 1 && type == DType.F32) {
                // Rows are contiguous: copy each row's slice of the panel (vectors when the panel is full).
                if (Kernels.VECTOR && cols == nr && nr % Kernels.FLOATS == 0) {
                    int l = Kernels.FLOATS;
                    for (int p = 0; p < kc; p++) {
                        long src = (base + p * rowStride) * Float.BYTES;
                        for (int v = 0; v < nr; v += l) {
                            FloatVector.fromMemorySegment(Kernels.F, segment, src + (long) v * Float.BYTES, ORDER)
                                    .intoArray(dst, off + p * nr + v);
                        }
                    }
                } else {
                    for (int p = 0; p < kc; p++) {
                        long src = base + p * rowStride;
                        int d = off + p * nr;
                        for (int j = 0; j < cols; j++) dst[d + j] = segment.getAtIndex(Kernels.F32, src + j);
                        for (int j = cols; j < nr; j++) dst[d + j] = 0f;
                    }
                }
                return;
            }
            if (rowStride == 1) {
                // A weight [out, in] used as B = Wᵀ: each column is a contiguous run of the weight.
                interleave(segment, type, base, colStride, cols, kc, nr, dst, off);
            } else {
                for (int j = 0; j < cols; j++) copyStrided(segment, type, base + j * colStride, rowStride, kc, dst, off + j, nr);
            }
            for (int j = cols; j < nr; j++) {
                for (int p = 0; p < kc; p++) dst[off + p * nr + j] = 0f;
            }
        }
    }

    /** Per-thread staging for {@link #interleave}: runs widened to F32 before they are interleaved. */
    private static final ThreadLocal<Staging> STAGING = ThreadLocal.withInitial(Staging::new);

    private static final class Staging {
        float[] floats = new float[0];
        short[] shorts = new short[0];
    }

    /**
     * Packs {@code runs} contiguous runs of {@code length} elements (run t starts at {@code base + t·runStride})
     * as dst[off + p·width + t] (a transposition): each run is bulk-copied and widened, then scattered.
     */
    static void interleave(MemorySegment src, DType type, long base, long runStride, int runs, int length, int width,
                           float[] dst, int off) {
        Staging staging = STAGING.get();
        if (staging.floats.length < length) staging.floats = new float[length];
        float[] run = staging.floats;
        for (int t = 0; t < runs; t++) {
            copyRun(src, type, base + t * runStride, length, run, 0);
            for (int p = 0; p < length; p++) dst[off + p * width + t] = run[p];
        }
    }

    /** dst[dOff + t] = widen(src[start + t]) for t in [0, length): a bulk copy, then widening in Java arrays. */
    static void copyRun(MemorySegment src, DType type, long start, int length, float[] dst, int dOff) {
        switch (type) {
            case F32 -> MemorySegment.copy(src, Kernels.F32, start * Float.BYTES, dst, dOff, length);
            case BF16, F16 -> {
                Staging staging = STAGING.get();
                if (staging.shorts.length < length) staging.shorts = new short[length];
                short[] bits = staging.shorts;
                MemorySegment.copy(src, Kernels.I16, start * 2, bits, 0, length);
                if (type == DType.BF16) {
                    for (int t = 0; t < length; t++) dst[dOff + t] = Float.intBitsToFloat(bits[t] << 16);
                } else {
                    for (int t = 0; t < length; t++) dst[dOff + t] = Float.float16ToFloat(bits[t]);
                }
            }
            default -> throw new IllegalArgumentException("not a GEMM dtype: " + type);
        }
    }

    /** dst[dOff + t·dStride] = widen(src[sOff + t·sStride]) for t in [0, count). */
    static void copyStrided(MemorySegment src, DType type, long sOff, long sStride, int count,
                            float[] dst, int dOff, int dStride) {
        switch (type) {
            case F32 -> {
                for (int t = 0; t < count; t++) dst[dOff + t * dStride] = src.getAtIndex(Kernels.F32, sOff + t * sStride);
            }
            case BF16 -> {
                for (int t = 0; t < count; t++) {
                    dst[dOff + t * dStride] = Float.intBitsToFloat(src.getAtIndex(Kernels.I16, sOff + t * sStride) << 16);
                }
            }
            case F16 -> {
                for (int t = 0; t < count; t++) {
                    dst[dOff + t * dStride] = Float.float16ToFloat(src.getAtIndex(Kernels.I16, sOff + t * sStride));
                }
            }
            default -> throw new IllegalArgumentException("not a GEMM dtype: " + type);
        }
    }

    static float load(MemorySegment s, DType type, long i) {
        return switch (type) {
            case F32 -> s.getAtIndex(Kernels.F32, i);
            case BF16 -> Float.intBitsToFloat(s.getAtIndex(Kernels.I16, i) << 16);
            case F16 -> Float.float16ToFloat(s.getAtIndex(Kernels.I16, i));
            default -> throw new IllegalArgumentException("not a GEMM dtype: " + type);
        };
    }
}
