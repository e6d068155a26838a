package dev.zoetrope.core.cpu;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;

/** concat, embedding lookup, argmax, top-k, sums. */
final class Structure {
    private Structure() {
    }

    static Tensor concat(int dim, List<Tensor> tensors) {
        if (tensors.isEmpty()) throw new IllegalArgumentException("concat of nothing");
        Tensor first = tensors.get(0);
        int a = first.axis(dim);
        int[] shape = first.shape();
        int total = 0;
        DType dtype = first.dtype();
        for (Tensor t : tensors) {
            if (t.rank() != shape.length) throw Kernels.shapeError("concat", "tensors of equal rank", tensors.toArray(Tensor[]::new));
            for (int i = 0; i < shape.length; i++) {
                if (i != a && t.dim(i) != shape[i]) {
                    throw Kernels.shapeError("concat", "equal sizes except along dimension " + a, tensors.toArray(Tensor[]::new));
                }
            }
            if (t.dtype() != dtype) dtype = DType.F32;
            total += t.dim(a);
        }
        shape[a] = total;
        Tensor out = Tensor.empty(dtype, shape);
        int start = 0;
        for (Tensor t : tensors) {
            out.narrow(a, start, t.dim(a)).copyFrom(t);
            start += t.dim(a);
        }
        return out;
    }

    static Tensor embedding(Tensor weight, Tensor ids) {
        if (weight.rank() != 2) throw Kernels.shapeError("embedding", "weight[V, D]", weight);
        int v = weight.dim(0), d = weight.dim(1);
        long[] idx = ids.toLongArray();
        int[] shape = Arrays.copyOf(ids.shape(), ids.rank() + 1);
        shape[ids.rank()] = d;
        Tensor out = Tensor.empty(DType.F32, shape);
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= v) {
                throw new IndexOutOfBoundsException("token id " + idx[i] + " outside the embedding table of " + v + " rows");
            }
            Tensor row = weight.select(0, (int) idx[i]);
            Tensor dst = out.reshape(idx.length, d).select(0, i);
            dst.copyFrom(row);
        }
        return out;
    }

    static Tensor argmax(Tensor x) {
        Tensor xc = Kernels.f32(x);
        int d = x.dim(-1);
        int rows = (int) (xc.numel() / d);
        long[] out = new long[rows];
        MemorySegment s = xc.segment();
        for (int r = 0; r < rows; r++) {
            long base = xc.offset() + (long) r * d;
            float best = Float.NEGATIVE_INFINITY;
            int arg = 0;
            for (int i = 0; i < d; i++) {
                float v = s.getAtIndex(Kernels.F32, base + i);
                if (v > best || (Float.isNaN(v) && !Float.isNaN(best))) {
                    best = v;
                    arg = i;
                }
            }
            out[r] = arg;
        }
        return Tensor.ofLongs(out, Arrays.copyOf(x.shape(), x.rank() - 1));
    }

    static Tensor[] topk(Tensor x, int k) {
        Tensor xc = Kernels.f32(x);
        int d = x.dim(-1);
        if (k < 0 || k > d) throw new IllegalArgumentException("topk: k=" + k + " outside [0, " + d + "]");
        int rows = (int) (xc.numel() / d);
        int[] shape = x.shape();
        shape[shape.length - 1] = k;
        float[] vals = new float[rows * k];
        long[] inds = new long[rows * k];
        float[] all = xc.toFloatArray();
        for (int r = 0; r < rows; r++) {
            Integer[] order = new Integer[d];
            for (int i = 0; i < d; i++) order[i] = i;
            final int base = r * d;
            Arrays.sort(order, (p, q) -> {
                int c = Float.compare(all[base + q], all[base + p]);
                return c != 0 ? c : Integer.compare(p, q);
            });
            for (int i = 0; i < k; i++) {
                vals[r * k + i] = all[base + order[i]];
                inds[r * k + i] = order[i];
            }
        }
        return new Tensor[] {Tensor.of(vals, shape), Tensor.ofLongs(inds, shape)};
    }

    static Tensor sumLast(Tensor x) {
        Tensor xc = Kernels.f32(x);
        int d = x.dim(-1);
        int rows = (int) (xc.numel() / Math.max(1, d));
        float[] out = new float[rows];
        MemorySegment s = xc.segment();
        for (int r = 0; r < rows; r++) {
            double sum = 0;
            for (int i = 0; i < d; i++) sum += s.getAtIndex(Kernels.F32, xc.offset() + (long) r * d + i);
            out[r] = (float) sum;
        }
        return Tensor.of(out, Arrays.copyOf(x.shape(), x.rank() - 1));
    }
}
