package dev.zoetrope.core.cpu;

import dev.zoetrope.core.DType;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Writers of GEMM operands into the packed layouts the micro-kernels read. A packed A micro-panel holds
 * {@code mr} rows × kc: element (r, p) at {@code p·mr + r}. A packed B panel holds kc × {@code nr} columns:
 * element (p, j) at {@code p·nr + j}. Rows or columns past the matrix edge are written as zeros, so the
 * micro-kernel always runs a full tile. Anything that can produce such panels (a strided matrix of any float
 * dtype, an implicit im2col) can feed {@link Gemm}.
 */
final class Panels {
    private Panels() {
    }

    /** Source of the left operand A[m×k]. */
    interface A {
        /** Packs rows [i0, i0+rows) × columns [p0, p0+kc) into dst at off as an mr-row micro-panel. */
        void packRows(int i0, int rows, int p0, int kc, int mr, float[] dst, int off);
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
        public void packRows(int i0, int rows, int p0, int kc, int mr, float[] dst, int off) {
            // As an A operand: row r of the micro-panel is matrix row i0 + r, read along the columns.
            for (int r = 0; r < rows; r++) {
                copyStrided(segment, type, offset + (i0 + r) * rowStride + (long) p0 * colStride, colStride,
                        kc, dst, off + r, mr);
            }
            for (int r = rows; r < mr; r++) {
                for (int p = 0; p < kc; p++) dst[off + p * mr + r] = 0f;
            }
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
            // General case (e.g. a weight [out, in] used as B = Wᵀ): walk each column down the rows.
            for (int j = 0; j < cols; j++) {
                copyStrided(segment, type, base + j * colStride, rowStride, kc, dst, off + j, nr);
            }
            for (int j = cols; j < nr; j++) {
                for (int p = 0; p < kc; p++) dst[off + p * nr + j] = 0f;
            }
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
