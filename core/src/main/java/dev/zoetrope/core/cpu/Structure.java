package dev.zoetrope.core.cpu;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Parallel;
import dev.zoetrope.core.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;

import static dev.zoetrope.core.cpu.Kernels.F;
import static dev.zoetrope.core.cpu.Kernels.F32;
import static dev.zoetrope.core.cpu.Kernels.FLOATS;
import static dev.zoetrope.core.cpu.Kernels.I16;
import static dev.zoetrope.core.cpu.Kernels.ORDER;

/** concat, pad, embedding lookup, argmax, top-k, sums and means over the last dimension. */
final class Structure {
    private Structure() {
    }

    private static final int ROW_GRAIN = 1 << 14;

    // ---------------------------------------------------------------- concat / pad

    /** torch.cat; mixed dtypes give F32. Contiguous inputs are copied as whole blocks per outer index. */
    static Tensor concat(int dim, List<Tensor> tensors) {
        if (tensors.isEmpty()) throw new IllegalArgumentException("concat of nothing");
        Tensor first = tensors.get(0);
        int a = first.axis(dim);
        int[] shape = first.shape();
        long total = 0;
        DType dtype = first.dtype();
        Tensor[] all = tensors.toArray(Tensor[]::new);
        for (Tensor t : tensors) {
            if (t.rank() != shape.length) throw Kernels.shapeError("concat", "tensors of equal rank", all);
            for (int i = 0; i < shape.length; i++) {
                if (i != a && t.dim(i) != shape[i]) {
                    throw Kernels.shapeError("concat", "equal sizes except along dimension " + a, all);
                }
            }
            if (t.dtype() != dtype) dtype = DType.F32;
            total += t.dim(a);
        }
        if (total > Integer.MAX_VALUE) throw Kernels.shapeError("concat", "a result dimension below 2³¹", all);
        shape[a] = (int) total;
        Tensor out = Tensor.empty(dtype, shape);
        long outer = 1, inner = 1;
        for (int i = 0; i < a; i++) outer *= shape[i];
        for (int i = a + 1; i < shape.length; i++) inner *= shape[i];
        int es = dtype.byteSize();
        MemorySegment os = out.segment();
        long outRow = total * inner; // elements of out per outer index
        int start = 0;
        for (Tensor t : tensors) {
            long chunk = t.dim(a) * inner;
            if (t.isContiguous() && t.dtype() == dtype) {
                MemorySegment ts = t.segment();
                long to = t.offset();
                long at = start * inner;
                Parallel.forRange(outer, Math.max(1, (1 << 16) / Math.max(1, chunk)), (o0, o1) -> {
                    for (long o = o0; o < o1; o++) {
                        MemorySegment.copy(ts, (to + o * chunk) * es, os, (o * outRow + at) * es, chunk * es);
                    }
                });
            } else {
                out.narrow(a, start, t.dim(a)).copyFrom(t);
            }
            start += t.dim(a);
        }
        return out;
    }

    /**
     * torch.nn.functional.pad, constant mode: {@code pads} = (left, right) of the last dim, then (top,
     * bottom) of the one before, …; negative pads crop. Result F32.
     */
    static Tensor pad(Tensor x, float value, int[] pads) {
        Kernels.requireFloat(x, "pad input");
        if (pads.length % 2 != 0 || pads.length / 2 > x.rank()) {
            throw Kernels.shapeError("pad", "an even number of pads, two per dimension from the last (got "
                    + pads.length + ")", x);
        }
        int[] shape = x.shape();
        Tensor src = x;
        int[] start = new int[shape.length];
        for (int i = 0; i < pads.length / 2; i++) {
            int d = shape.length - 1 - i;
            int before = pads[2 * i], after = pads[2 * i + 1];
            // negative pads crop the input first
            int cropFront = Math.max(0, -before), cropBack = Math.max(0, -after);
            if (cropFront + cropBack > src.dim(d)) throw Kernels.shapeError("pad", "crops no larger than the input", x);
            src = src.slice(d, cropFront, src.dim(d) - cropBack);
            start[d] = Math.max(0, before);
            shape[d] = src.dim(d) + Math.max(0, before) + Math.max(0, after);
        }
        Tensor out = Tensor.full(value, shape);
        Tensor window = out;
        for (int d = 0; d < shape.length; d++) window = window.narrow(d, start[d], src.dim(d));
        window.copyFrom(src);
        return out;
    }

    // ---------------------------------------------------------------- embedding

    /** Rows of weight[V, D] (F32, F16 or BF16; last dim contiguous or copied) picked by integer ids. */
    static Tensor embedding(Tensor weight, Tensor ids) {
        Kernels.requireFloat(weight, "embedding table");
        if (weight.rank() != 2) throw Kernels.shapeError("embedding", "weight[V, D]", weight);
        if (ids.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("embedding: ids must be an integer tensor, got " + ids.dtype());
        }
        int v = weight.dim(0), d = weight.dim(1);
        long[] idx = ids.toLongArray();
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= v) {
                throw new IndexOutOfBoundsException("embedding: token id " + idx[i] + " at position " + i
                        + " is outside the table of " + v + " rows");
            }
        }
        int[] shape = Arrays.copyOf(ids.shape(), ids.rank() + 1);
        shape[ids.rank()] = d;
        Tensor out = Tensor.empty(DType.F32, shape);
        if (out.numel() == 0) return out;
        Tensor table = weight.stride(1) == 1 ? weight : weight.contiguous();
        MemorySegment ws = table.segment(), os = out.segment();
        DType type = table.dtype();
        long rowStride = table.stride(0), wo = table.offset();
        Parallel.forRange(idx.length, Math.max(1, ROW_GRAIN / Math.max(1, d)), (i0, i1) -> {
            for (long i = i0; i < i1; i++) widenRow(ws, type, wo + idx[(int) i] * rowStride, os, i * d, d);
        });
        Kernels.release(table, weight);
        return out;
    }

    /** Shorts with as many lanes as {@link Kernels#F} has floats. */
    private static final VectorSpecies<Short> HALF_SHORTS = VectorSpecies.of(short.class, VectorShape.forBitSize(FLOATS * 16));

    /** dst[0..n) = src row widened to F32 (bf16 → f32 is a 16-bit shift, done on whole vectors). */
    static void widenRow(MemorySegment src, DType type, long at, MemorySegment dst, long to, int n) {
        switch (type) {
            case F32 -> MemorySegment.copy(src, at * 4, dst, to * 4, n * 4L);
            case BF16 -> {
                int i = 0;
                if (Kernels.VECTOR) {
                    for (; i + FLOATS <= n; i += FLOATS) {
                        ShortVector s = ShortVector.fromMemorySegment(HALF_SHORTS, src, (at + i) * 2, ORDER);
                        IntVector bits = (IntVector) s.convertShape(VectorOperators.S2I, F.withLanes(int.class), 0);
                        bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                                .intoMemorySegment(dst, (to + i) * 4, ORDER);
                    }
                }
                for (; i < n; i++) dst.setAtIndex(F32, to + i, DType.bf16ToFloat(src.getAtIndex(I16, at + i)));
            }
            case F16 -> {
                for (int i = 0; i < n; i++) dst.setAtIndex(F32, to + i, Float.float16ToFloat(src.getAtIndex(I16, at + i)));
            }
            default -> {
                for (int i = 0; i < n; i++) dst.setAtIndex(F32, to + i, Kernels.load(src, type, at + i));
            }
        }
    }

    // ---------------------------------------------------------------- reductions over the last dim

    /** Index of the largest value along the last dimension (first one on ties; NaN counts as largest, as torch). */
    static Tensor argmax(Tensor x) {
        Kernels.requireFloat(x, "argmax input");
        if (x.rank() < 1 || x.dim(-1) == 0) throw Kernels.shapeError("argmax", "x[..., D] with D > 0", x);
        Tensor xc = Kernels.f32(x);
        int d = x.dim(-1);
        int rows = (int) (xc.numel() / d);
        Tensor out = Tensor.empty(DType.I64, Arrays.copyOf(x.shape(), x.rank() - 1));
        MemorySegment s = xc.segment(), os = out.segment();
        long xo = xc.offset();
        Parallel.forRange(rows, Math.max(1, ROW_GRAIN / d), (r0, r1) -> {
            for (long r = r0; r < r1; r++) os.setAtIndex(Kernels.I64, r, argmaxRow(s, xo + r * d, d));
        });
        Kernels.release(xc, x);
        return out;
    }

    static int argmaxRow(MemorySegment s, long base, int d) {
        float max = Norms.max(s, base, d); // NaN if any element is NaN
        boolean nan = Float.isNaN(max);
        int i = 0;
        if (Kernels.VECTOR && !nan) {
            int bound = d - d % FLOATS;
            for (; i < bound; i += FLOATS) {
                VectorMask<Float> hit = FloatVector.fromMemorySegment(F, s, (base + i) * 4, ORDER)
                        .compare(VectorOperators.EQ, max);
                if (hit.anyTrue()) return i + hit.firstTrue();
            }
        }
        for (; i < d; i++) {
            float v = s.getAtIndex(F32, base + i);
            if (nan ? Float.isNaN(v) : v == max) return i;
        }
        return 0; // unreachable: max is one of the elements
    }

    /**
     * The k largest values along the last dimension in descending order with their indices (ties: lower
     * index first; NaN above +∞). A size-k min-heap per row; the vector path skips whole vectors that
     * cannot enter the heap.
     */
    static Tensor[] topk(Tensor x, int k) {
        Kernels.requireFloat(x, "topk input");
        if (x.rank() < 1) throw Kernels.shapeError("topk", "x[..., D]", x);
        int d = x.dim(-1);
        if (k < 0 || k > d) throw new IllegalArgumentException("topk: k=" + k + " outside [0, " + d + "]");
        Tensor xc = Kernels.f32(x);
        int rows = d == 0 ? 0 : (int) (xc.numel() / d);
        int[] shape = x.shape();
        shape[shape.length - 1] = k;
        Tensor values = Tensor.empty(DType.F32, shape), indices = Tensor.empty(DType.I64, shape);
        if (k == 0 || rows == 0) return new Tensor[] {values, indices};
        MemorySegment s = xc.segment(), vs = values.segment(), is = indices.segment();
        long xo = xc.offset();
        Parallel.forRange(rows, Math.max(1, ROW_GRAIN / d), (r0, r1) -> {
            float[] heapV = new float[k];
            int[] heapI = new int[k];
            for (long r = r0; r < r1; r++) {
                long base = xo + r * d;
                int size = 0;
                int i = 0;
                while (i < d) {
                    if (Kernels.VECTOR && size == k && i + FLOATS <= d) {
                        // the heap's weakest entry; a vector with every lane strictly below it changes nothing
                        FloatVector v = FloatVector.fromMemorySegment(F, s, (base + i) * 4, ORDER);
                        if (!v.compare(VectorOperators.GE, heapV[0]).or(v.compare(VectorOperators.NE, v)).anyTrue()) { // NE: NaN
                            i += FLOATS;
                            continue;
                        }
                    }
                    float v = s.getAtIndex(F32, base + i);
                    if (size < k) {
                        heapV[size] = v;
                        heapI[size] = i;
                        siftUp(heapV, heapI, size++);
                    } else if (better(v, i, heapV[0], heapI[0])) {
                        heapV[0] = v;
                        heapI[0] = i;
                        siftDown(heapV, heapI, k);
                    }
                    i++;
                }
                // pop the weakest first: fill from the back
                for (int n = k; n > 0; n--) {
                    vs.setAtIndex(F32, r * k + n - 1, heapV[0]);
                    is.setAtIndex(Kernels.I64, r * k + n - 1, heapI[0]);
                    heapV[0] = heapV[n - 1];
                    heapI[0] = heapI[n - 1];
                    siftDown(heapV, heapI, n - 1);
                }
            }
        });
        Kernels.release(xc, x);
        return new Tensor[] {values, indices};
    }

    /** Ranking: larger value first (NaN largest), then lower index. */
    private static boolean better(float v, int i, float w, int j) {
        int c = Float.compare(v, w);
        return c > 0 || (c == 0 && i < j);
    }

    /** Min-heap on the ranking: the root is the weakest kept entry. */
    private static void siftUp(float[] hv, int[] hi, int n) {
        while (n > 0) {
            int parent = (n - 1) / 2;
            if (!better(hv[parent], hi[parent], hv[n], hi[n])) break;
            swap(hv, hi, parent, n);
            n = parent;
        }
    }

    private static void siftDown(float[] hv, int[] hi, int size) {
        int n = 0;
        while (true) {
            int l = 2 * n + 1, r = l + 1, weakest = n;
            if (l < size && better(hv[weakest], hi[weakest], hv[l], hi[l])) weakest = l;
            if (r < size && better(hv[weakest], hi[weakest], hv[r], hi[r])) weakest = r;
            if (weakest == n) return;
            swap(hv, hi, n, weakest);
            n = weakest;
        }
    }

    private static void swap(float[] hv, int[] hi, int a, int b) {
        float v = hv[a];
        hv[a] = hv[b];
        hv[b] = v;
        int i = hi[a];
        hi[a] = hi[b];
        hi[b] = i;
    }

    /** Sum over the last dimension (accumulated in double). */
    static Tensor sumLast(Tensor x) {
        return reduceLast(x, false);
    }

    /** Mean over the last dimension (sum accumulated in double, divided once). */
    static Tensor meanLast(Tensor x) {
        return reduceLast(x, true);
    }

    private static Tensor reduceLast(Tensor x, boolean mean) {
        Kernels.requireFloat(x, mean ? "meanLast input" : "sumLast input");
        if (x.rank() < 1) throw Kernels.shapeError(mean ? "meanLast" : "sumLast", "x[..., D]", x);
        Tensor xc = Kernels.f32(x);
        int d = x.dim(-1);
        Tensor out = Tensor.empty(DType.F32, Arrays.copyOf(x.shape(), x.rank() - 1));
        long rows = out.numel();
        MemorySegment s = xc.segment(), os = out.segment();
        long xo = xc.offset();
        Parallel.forRange(rows, Math.max(1, ROW_GRAIN / Math.max(1, d)), (r0, r1) -> {
            float[] lanes = new float[FLOATS];
            for (long r = r0; r < r1; r++) {
                double sum = Norms.sum(s, xo + r * d, d, lanes);
                os.setAtIndex(F32, r, (float) (mean ? sum / d : sum));
            }
        });
        Kernels.release(xc, x);
        return out;
    }
}
