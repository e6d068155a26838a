package dev.zoetrope.core.cpu;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Parallel;
import dev.zoetrope.core.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/**
 * Several linears of one input, side by side: {@code y[..., Σ out_i] = [x·W₁ᵀ + b₁ | x·W₂ᵀ + b₂ | …]} (an LLM's
 * q/k/v or gate/up projections). With at most {@link Gemv#MAX_ROWS} rows of x — a decode step, where a linear
 * is a stream over its weight — the rows of all the weights are cut into slices of about {@link #TASK_BYTES}
 * and run as the tasks of one parallel pass, so the group costs one thread hand-off instead of one per weight.
 * BF16 weights with contiguous rows (as checkpoints store them) are streamed here with x prepared once for the
 * whole group: each row is one sequential stream, BF16 pairs loaded as ints and widened in registers (the even
 * element is {@code bits << 16}, the odd one {@code bits & 0xffff0000}) against x rearranged into blocks of its
 * even and then its odd elements, four independent accumulators, a byte {@link Prefetch#AHEAD_BYTES} ahead read
 * per step so the next lines are on their way. Other dtypes run each slice as an ordinary
 * {@link Gemm#gemm} call (inline inside its task). More rows of x run one GEMM per weight, writing into the
 * weight's columns of y.
 *
 * <p>Each output element is one fixed-order dot product (vector lanes, (a0 + a1) + (a2 + a3), lanes summed from
 * lane 0, the elements past the last whole block, then the bias) computed by one task whose rows depend only on
 * the shapes, so results are bit-identical for any thread count.
 */
final class LinearGroup {
    private LinearGroup() {
    }

    /** Weight bytes per task of the one-pass path: small enough to balance two threads, large enough to stream. */
    static final long TASK_BYTES = 256 << 10;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final VectorSpecies<Integer> INTS = VectorSpecies.of(int.class, Kernels.F.vectorShape());

    static Tensor linearGroup(Tensor x, List<Tensor> weights, List<Tensor> biases) {
        Kernels.requireFloat(x, "linear group input");
        if (weights.isEmpty()) throw new IllegalArgumentException("linear group: no weights");
        if (biases != null && biases.size() != weights.size()) {
            throw new IllegalArgumentException("linear group: " + weights.size() + " weights but " + biases.size() + " biases");
        }
        int in = x.dim(-1), groups = weights.size();
        Tensor[] w = new Tensor[groups];
        int[] columnStart = new int[groups + 1];
        float[][] bias = new float[groups][];
        for (int i = 0; i < groups; i++) {
            Tensor wi = weights.get(i);
            Kernels.requireFloat(wi, "linear group weight");
            if (wi.rank() != 2 || wi.dim(1) != in) throw Kernels.shapeError("linear group", "x[..., in] and weight[out, in]", x, wi);
            w[i] = wi.dtype() == DType.F64 ? wi.to(DType.F32) : wi;
            columnStart[i + 1] = columnStart[i] + wi.dim(0);
            bias[i] = biases == null ? null : MatMul.biasArray(biases.get(i), wi.dim(0), "linear group");
        }
        int total = columnStart[groups];
        int[] outShape = x.shape();
        outShape[outShape.length - 1] = total;
        int m = (int) (x.numel() / Math.max(1, in));
        Tensor xc = Kernels.f32(x);
        Tensor y = Tensor.empty(DType.F32, outShape);
        if (m == 0 || total == 0) return y;
        if (m > Gemv.MAX_ROWS || in == 0) {
            for (int i = 0; i < groups; i++) multiply(xc, m, in, w[i], 0, w[i].dim(0), bias[i], y, columnStart[i], total);
        } else {
            // slices of each weight's rows: weight i owns tasks [firstTask[i], firstTask[i + 1])
            int[] rowsPerTask = new int[groups];
            int[] firstTask = new int[groups + 1];
            for (int i = 0; i < groups; i++) {
                long rowBytes = Math.max(1L, (long) in * w[i].dtype().byteSize());
                rowsPerTask[i] = (int) Math.max(1, Math.min(w[i].dim(0), TASK_BYTES / rowBytes));
                firstTask[i + 1] = firstTask[i] + (w[i].dim(0) + rowsPerTask[i] - 1) / rowsPerTask[i];
            }
            boolean stream = Kernels.VECTOR && ORDER == ByteOrder.LITTLE_ENDIAN && streamsBf16(w);
            float[] xs = stream ? rows(xc, m, in) : null;
            float[] blocks = stream ? pairBlocks(xs, m, in) : null;
            Parallel.forEach(firstTask[groups], task -> {
                int g = 0;
                while (task >= firstTask[g + 1]) g++;
                int r0 = (task - firstTask[g]) * rowsPerTask[g], r1 = Math.min(w[g].dim(0), r0 + rowsPerTask[g]);
                if (!stream) {
                    multiply(xc, m, in, w[g], r0, r1, bias[g], y, columnStart[g], total);
                    return;
                }
                float[] lanes = new float[Kernels.FLOATS];
                MemorySegment ys = y.segment();
                for (int j = r0; j < r1; j++) {
                    for (int r = 0; r < m; r++) {   // the weight row stays in L1 for the other rows of x
                        float dot = dotBf16(w[g], j, in, xs, blocks, r, lanes);
                        ys.setAtIndex(Kernels.F32, (long) r * total + columnStart[g] + j, bias[g] == null ? dot : dot + bias[g][j]);
                    }
                }
            });
        }
        Kernels.release(xc, x);
        return y;
    }

    /** y[:, start + r0 … start + r1) = x · W[r0:r1]ᵀ + bias[r0:r1], rows of y being {@code total} long. */
    private static void multiply(Tensor xc, int m, int in, Tensor w, int r0, int r1, float[] bias, Tensor y, int start,
                                 int total) {
        // B[in, out] = Wᵀ: row stride = W's column stride and vice versa
        Gemm.gemm(m, r1 - r0, in, xc.segment(), xc.offset(), in, 1,
                w.segment(), w.dtype(), w.offset() + r0 * w.stride(0), w.stride(1), w.stride(0),
                y.segment(), start + r0, total, bias == null ? null : Arrays.copyOfRange(bias, r0, r1), false);
    }

    private static boolean streamsBf16(Tensor[] weights) {
        for (Tensor w : weights) if (w.dtype() != DType.BF16 || w.stride(1) != 1) return false;
        return true;
    }

    /** The m rows of a contiguous F32 x [m, k] on the heap. */
    private static float[] rows(Tensor xc, int m, int k) {
        float[] x = new float[m * k];
        MemorySegment s = xc.segment();
        for (int i = 0; i < x.length; i++) x[i] = s.getAtIndex(Kernels.F32, xc.offset() + i);
        return x;
    }

    /**
     * x rearranged for the pair loads, per row and per block of 2·lanes elements: the block's even elements, then
     * its odd ones (x[2q], x[2q + 2], …, x[2q + 1], x[2q + 3], …); elements past the last whole block stay in place.
     */
    private static float[] pairBlocks(float[] x, int m, int k) {
        int lanes = Kernels.FLOATS;
        float[] out = x.clone();
        for (int r = 0; r < m; r++) {
            for (int b = 0; b < k / (2 * lanes); b++) {
                int base = r * k + 2 * b * lanes;
                for (int u = 0; u < lanes; u++) {
                    out[base + u] = x[base + 2 * u];
                    out[base + lanes + u] = x[base + 2 * u + 1];
                }
            }
        }
        return out;
    }

    /** Row j of a BF16 weight (contiguous rows, k elements) against row r of x. */
    private static float dotBf16(Tensor w, int j, int k, float[] x, float[] blocks, int r, float[] lanes) {
        VectorSpecies<Float> f = Kernels.F;
        int l = f.length(), xBase = r * k, step = 2 * l;
        MemorySegment s = w.segment();
        long first = w.offset() + j * w.stride(0), row = first * 2;
        FloatVector a0 = FloatVector.zero(f), a1 = a0, a2 = a0, a3 = a0;
        long last = s.byteSize() - 1;
        int touched = 0;
        int p = 0;   // elements done
        for (; p + 4 * step <= k; p += 4 * step) {
            long at = row + 2L * p;
            if (Prefetch.ENABLED) touched += s.get(ValueLayout.JAVA_BYTE, Math.min(at + Prefetch.AHEAD_BYTES, last));
            IntVector w0 = IntVector.fromMemorySegment(INTS, s, at, ORDER);
            IntVector w1 = IntVector.fromMemorySegment(INTS, s, at + 2L * step, ORDER);
            IntVector w2 = IntVector.fromMemorySegment(INTS, s, at + 4L * step, ORDER);
            IntVector w3 = IntVector.fromMemorySegment(INTS, s, at + 6L * step, ORDER);
            int e = xBase + p;
            a0 = w0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(f, blocks, e), a0);
            a0 = w0.and(0xffff0000).reinterpretAsFloats().fma(FloatVector.fromArray(f, blocks, e + l), a0);
            a1 = w1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(f, blocks, e + 2 * l), a1);
            a1 = w1.and(0xffff0000).reinterpretAsFloats().fma(FloatVector.fromArray(f, blocks, e + 3 * l), a1);
            a2 = w2.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(f, blocks, e + 4 * l), a2);
            a2 = w2.and(0xffff0000).reinterpretAsFloats().fma(FloatVector.fromArray(f, blocks, e + 5 * l), a2);
            a3 = w3.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(f, blocks, e + 6 * l), a3);
            a3 = w3.and(0xffff0000).reinterpretAsFloats().fma(FloatVector.fromArray(f, blocks, e + 7 * l), a3);
        }
        for (; p + step <= k; p += step) {
            IntVector w0 = IntVector.fromMemorySegment(INTS, s, row + 2L * p, ORDER);
            int e = xBase + p;
            a0 = w0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(f, blocks, e), a0);
            a0 = w0.and(0xffff0000).reinterpretAsFloats().fma(FloatVector.fromArray(f, blocks, e + l), a0);
        }
        Prefetch.keep(touched);
        a0.add(a1).add(a2.add(a3)).intoArray(lanes, 0);
        float dot = (float) Kernels.sumLanes(lanes);
        for (; p < k; p++) dot += x[xBase + p] * Float.intBitsToFloat((s.getAtIndex(Kernels.I16, first + p) & 0xffff) << 16);
        return dot;
    }
}
