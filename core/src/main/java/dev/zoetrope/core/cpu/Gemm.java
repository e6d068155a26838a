package dev.zoetrope.core.cpu;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Parallel;

import java.lang.foreign.MemorySegment;

/**
 * Single-precision GEMM: {@code C[m×n] (+)= A[m×k] · B[k×n] (+ bias[n])}. Operands are addressed by element
 * offset and strides so transposed views need no copy; B may be F32, F16 or BF16 (widened while packing).
 * C is row-major F32 with leading dimension ldc. The reduction over k for one element of C runs in a fixed
 * order regardless of the thread count.
 */
public final class Gemm {
    private Gemm() {
    }

    public static void gemm(int m, int n, int k,
                            MemorySegment a, long aOff, long aRowStride, long aColStride,
                            MemorySegment b, DType bType, long bOff, long bRowStride, long bColStride,
                            MemorySegment c, long cOff, long ldc,
                            float[] bias, boolean accumulate) {
        if (m == 0 || n == 0) return;
        Parallel.forRange(m, Math.max(1, 4096 / Math.max(1, n)), (i0, i1) -> {
            float[] row = new float[k];
            for (long i = i0; i < i1; i++) {
                for (int p = 0; p < k; p++) row[p] = a.getAtIndex(Kernels.F32, aOff + i * aRowStride + p * aColStride);
                for (int j = 0; j < n; j++) {
                    float sum = 0f;
                    long bj = bOff + j * bColStride;
                    for (int p = 0; p < k; p++) sum += row[p] * Kernels.load(b, bType, bj + p * bRowStride);
                    long ci = cOff + i * ldc + j;
                    if (bias != null) sum += bias[j];
                    if (accumulate) sum += c.getAtIndex(Kernels.F32, ci);
                    c.setAtIndex(Kernels.F32, ci, sum);
                }
            }
        });
    }
}
