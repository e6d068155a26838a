package dev.zoetrope.core.cpu;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Parallel;
import dev.zoetrope.core.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Several linears of one input, side by side: {@code y[..., Σ out_i] = [x·W₁ᵀ + b₁ | x·W₂ᵀ + b₂ | …]} (an LLM's
 * q/k/v or gate/up projections). With at most {@link #MAX_ROWS} rows of x — a decode step — every weight row is
 * streamed once from memory in one parallel pass over all the weights, so the group costs one thread hand-off
 * instead of one per weight. BF16 rows are widened in registers: a pair of BF16 words loaded as one int gives
 * the even element ({@code bits << 16}) and the odd one ({@code bits & 0xffff0000}), matched against x
 * rearranged once into blocks of its even and then its odd elements. Each row is read as one sequential stream with four independent accumulator chains
 * (measured here: about twice the rate of reading four rows side by side, which the JIT compiles with spills).
 * Other dtypes and more rows go through {@link Gemm} per weight, writing into the
 * weight's columns of y.
 *
 * <p>Each output element is one dot product in a fixed order (vector lanes, then the lane sum from lane 0 up,
 * then the odd tail, then the bias) computed by one task whose rows depend only on the weight shapes, so results
 * are bit-identical for any thread count.
 */
final class LinearGroup {
    private LinearGroup() {
    }

    /** Rows of x that take the streaming path; more rows are a GEMM's job. */
    static final int MAX_ROWS = 4;
    /** Weight rows per parallel task. */
    private static final int GRAIN = 64;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final VectorSpecies<Integer> INTS = VectorSpecies.of(int.class, Kernels.F.vectorShape());

    static Tensor linearGroup(Tensor x, List<Tensor> weights, List<Tensor> biases) {
        Kernels.requireFloat(x, "linear group input");
        if (weights.isEmpty()) throw new IllegalArgumentException("linear group: no weights");
        if (biases != null && biases.size() != weights.size()) {
            throw new IllegalArgumentException("linear group: " + weights.size() + " weights but " + biases.size() + " biases");
        }
        int in = x.dim(-1);
        int groups = weights.size();
        int[] columnStart = new int[groups + 1];
        float[][] bias = new float[groups][];
        for (int i = 0; i < groups; i++) {
            Tensor w = weights.get(i);
            Kernels.requireFloat(w, "linear group weight");
            if (w.rank() != 2 || w.dim(1) != in) throw Kernels.shapeError("linear group", "x[..., in] and weight[out, in]", x, w);
            columnStart[i + 1] = columnStart[i] + w.dim(0);
            bias[i] = biases == null ? null : MatMul.biasArray(biases.get(i), w.dim(0), "linear group");
        }
        int total = columnStart[groups];
        int[] outShape = x.shape();
        outShape[outShape.length - 1] = total;
        int m = (int) (x.numel() / Math.max(1, in));
        Tensor xc = Kernels.f32(x);
        Tensor y = Tensor.empty(DType.F32, outShape);
        if (m == 0 || total == 0) return y;
        if (m <= MAX_ROWS && in > 0 && streamable(weights)) {
            stream(m, in, xc, weights, bias, columnStart, y.segment());
        } else {
            for (int i = 0; i < groups; i++) {
                Tensor w = weights.get(i).dtype() == DType.F64 ? weights.get(i).to(DType.F32) : weights.get(i);
                // B[in, out_i] = Wᵢᵀ, written into columns [start_i, start_{i+1}) of y's rows of length total
                Gemm.gemm(m, w.dim(0), in, xc.segment(), xc.offset(), in, 1,
                        w.segment(), w.dtype(), w.offset(), w.stride(1), w.stride(0),
                        y.segment(), columnStart[i], total, bias[i], false);
            }
        }
        return y;
    }

    /** BF16 weights with contiguous rows (as a checkpoint stores them). */
    private static boolean streamable(List<Tensor> weights) {
        for (Tensor w : weights) if (w.dtype() != DType.BF16 || w.stride(1) != 1) return false;
        return true;
    }

    private static void stream(int m, int k, Tensor xc, List<Tensor> weights, float[][] bias, int[] columnStart,
                               MemorySegment y) {
        float[] x = new float[m * k];
        MemorySegment xs = xc.segment();
        for (int i = 0; i < m * k; i++) x[i] = xs.getAtIndex(Kernels.F32, xc.offset() + i);
        int groups = weights.size();
        int total = columnStart[groups];
        int[] firstTask = new int[groups + 1];   // tasks of weight i: [firstTask[i], firstTask[i + 1])
        for (int i = 0; i < groups; i++) firstTask[i + 1] = firstTask[i] + (weights.get(i).dim(0) + GRAIN - 1) / GRAIN;
        float[] blocks = Kernels.VECTOR ? pairBlocks(x, m, k, Kernels.FLOATS) : null;
        Parallel.forEach(firstTask[groups], task -> {
            int g = 0;
            while (task >= firstTask[g + 1]) g++;
            Tensor w = weights.get(g);
            int r0 = (task - firstTask[g]) * GRAIN, r1 = Math.min(w.dim(0), r0 + GRAIN);
            Rows rows = new Rows(w.segment(), w.offset(), w.stride(0), k);
            float[] lanes = new float[Kernels.FLOATS];
            for (int j = r0; j < r1; j++) {
                for (int r = 0; r < m; r++) {   // the row stays in L1 for the other rows of x
                    float dot = blocks != null ? dotRow(rows, j, x, blocks, r, lanes) : dotScalar(rows, j, x, r);
                    put(y, (long) r * total + columnStart[g] + j, dot, bias[g], j);
                }
            }
        });
    }

    /** A BF16 weight: row j starts at element {@code offset + j·rowStride}; {@code k} elements per row. */
    private record Rows(MemorySegment segment, long offset, long rowStride, int k) {
        long byteOffset(int row) {
            return (offset + row * rowStride) * 2;
        }
    }

    private static void put(MemorySegment y, long at, float dot, float[] bias, int j) {
        y.setAtIndex(Kernels.F32, at, bias == null ? dot : dot + bias[j]);
    }

    /**
     * x rearranged for the pair loads, per row and per block of 2·lanes elements: the block's even elements,
     * then its odd ones ([r·k + 2q0 …]: x[2q0], x[2q0 + 2], …, x[2q0 + 1], x[2q0 + 3], …). The elements past the
     * last whole block stay in place. One array keeps the loop's loads to two streams.
     */
    private static float[] pairBlocks(float[] x, int m, int k, int lanes) {
        float[] out = x.clone();
        int blocks = k / (2 * lanes);
        for (int r = 0; r < m; r++) {
            for (int b = 0; b < blocks; b++) {
                int base = r * k + 2 * b * lanes;
                for (int u = 0; u < lanes; u++) {
                    out[base + u] = x[base + 2 * u];
                    out[base + lanes + u] = x[base + 2 * u + 1];
                }
            }
        }
        return out;
    }

    /**
     * Row j of the weight against row r of x: one sequential stream through the row with four accumulators
     * (independent FMA chains), combined as (a0 + a1) + (a2 + a3), summed over lanes from lane 0, then the
     * elements past the last whole block in order.
     */
    private static float dotRow(Rows w, int j, float[] x, float[] blocks, int r, float[] lanes) {
        VectorSpecies<Float> f = Kernels.F;
        int l = f.length(), k = w.k(), xBase = r * k, step = 2 * l;
        MemorySegment s = w.segment();
        long row = w.byteOffset(j);
        FloatVector a0 = FloatVector.zero(f), a1 = a0, a2 = a0, a3 = a0;
        int p = 0;   // elements done
        for (; p + 4 * step <= k; p += 4 * step) {
            long at = row + 2L * p;
            IntVector w0 = IntVector.fromMemorySegment(INTS, s, at, ORDER);
            IntVector w1 = IntVector.fromMemorySegment(INTS, s, at + 2L * step, ORDER);
            IntVector w2 = IntVector.fromMemorySegment(INTS, s, at + 4L * step, ORDER);
            IntVector w3 = IntVector.fromMemorySegment(INTS, s, at + 6L * step, ORDER);
            int e = xBase + p;
            a0 = oddHalf(w0).fma(FloatVector.fromArray(f, blocks, e + l), evenHalf(w0).fma(FloatVector.fromArray(f, blocks, e), a0));
            a1 = oddHalf(w1).fma(FloatVector.fromArray(f, blocks, e + 3 * l), evenHalf(w1).fma(FloatVector.fromArray(f, blocks, e + 2 * l), a1));
            a2 = oddHalf(w2).fma(FloatVector.fromArray(f, blocks, e + 5 * l), evenHalf(w2).fma(FloatVector.fromArray(f, blocks, e + 4 * l), a2));
            a3 = oddHalf(w3).fma(FloatVector.fromArray(f, blocks, e + 7 * l), evenHalf(w3).fma(FloatVector.fromArray(f, blocks, e + 6 * l), a3));
        }
        for (; p + step <= k; p += step) {
            IntVector w0 = IntVector.fromMemorySegment(INTS, s, row + 2L * p, ORDER);
            int e = xBase + p;
            a0 = oddHalf(w0).fma(FloatVector.fromArray(f, blocks, e + l), evenHalf(w0).fma(FloatVector.fromArray(f, blocks, e), a0));
        }
        return sumLanes(a0.add(a1).add(a2.add(a3)), lanes) + tail(w, j, x, r, p);
    }

    private static FloatVector evenHalf(IntVector pairs) {
        return pairs.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static FloatVector oddHalf(IntVector pairs) {
        return pairs.and(0xffff0000).reinterpretAsFloats();
    }

    /** Σ x[r, p]·w[j, p] for p in [from, k), in order. */
    private static float tail(Rows w, int j, float[] x, int r, int from) {
        float s = 0f;
        long row = w.offset() + j * w.rowStride();
        for (int p = from; p < w.k(); p++) s += x[r * w.k() + p] * bf16(w.segment(), row + p);
        return s;
    }

    /** The scalar path: Σ x[r, p]·w[j, p] for p ascending. */
    private static float dotScalar(Rows w, int j, float[] x, int r) {
        return tail(w, j, x, r, 0);
    }

    private static float bf16(MemorySegment s, long element) {
        return Float.intBitsToFloat((s.getAtIndex(Kernels.I16, element) & 0xffff) << 16);
    }

    /** Lane sum from lane 0 up (reduceLanes leaves the order open, which could differ between JIT tiers). */
    private static float sumLanes(FloatVector v, float[] lanes) {
        v.intoArray(lanes, 0);
        float s = 0f;
        for (int i = 0; i < lanes.length; i++) s += lanes[i];
        return s;
    }
}
