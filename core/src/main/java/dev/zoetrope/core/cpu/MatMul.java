package dev.zoetrope.core.cpu;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Tensor;

/** linear and batched matmul on top of {@link Gemm}. */
final class MatMul {
    private MatMul() {
    }

    static float[] biasArray(Tensor bias, int n, String op) {
        if (bias == null) return null;
        if (bias.rank() != 1 || bias.dim(0) != n) throw Kernels.shapeError(op, "bias of length " + n, bias);
        return bias.toFloatArray();
    }

    static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        Kernels.requireFloat(x, "linear input");
        Kernels.requireFloat(weight, "linear weight");
        if (weight.rank() != 2 || x.rank() < 1 || x.dim(-1) != weight.dim(1)) {
            throw Kernels.shapeError("linear", "x[..., in] and weight[out, in]", x, weight);
        }
        int in = weight.dim(1), out = weight.dim(0);
        Tensor xc = Kernels.f32(x);
        int[] outShape = x.shape();
        outShape[outShape.length - 1] = out;
        int m = (int) (xc.numel() / Math.max(1, in));
        if (in == 0) m = (int) (Tensor.numel(outShape) / Math.max(1, out));
        Tensor y = Tensor.empty(DType.F32, outShape);
        Tensor w = weight.isContiguous() || weight.dtype() == DType.F32 ? weight : weight.contiguous();
        Gemm.gemm(m, out, in,
                xc.segment(), xc.offset(), in, 1,
                w.segment(), w.dtype(), w.offset(), w.stride(1), w.stride(0),
                y.segment(), 0, out, biasArray(bias, out, "linear"), false);
        return y;
    }

    static Tensor matmul(Tensor a, Tensor b) {
        Kernels.requireFloat(a, "matmul operand");
        Kernels.requireFloat(b, "matmul operand");
        if (a.rank() < 2 || b.rank() < 2 || a.dim(-1) != b.dim(-2)) {
            throw Kernels.shapeError("matmul", "a[..., m, k] and b[..., k, n]", a, b);
        }
        int m = a.dim(-2), k = a.dim(-1), n = b.dim(-1);
        int[] aBatch = java.util.Arrays.copyOf(a.shape(), a.rank() - 2);
        int[] bBatch = java.util.Arrays.copyOf(b.shape(), b.rank() - 2);
        int[] batch = Elementwise.broadcastShape(aBatch, bBatch);
        int[] aFull = concat(batch, m, k), bFull = concat(batch, k, n);
        Tensor av = (a.dtype() == DType.F32 ? a : a.to(DType.F32)).expand(aFull);
        Tensor bv = b.expand(bFull);
        int[] outShape = concat(batch, m, n);
        Tensor out = Tensor.empty(DType.F32, outShape);
        long batches = Tensor.numel(batch);
        long[] as = av.strides(), bs = bv.strides();
        int r = batch.length;
        int[] idx = new int[r];
        for (long bi = 0; bi < batches; bi++) {
            long ao = av.offset(), bo = bv.offset();
            for (int d = 0; d < r; d++) {
                ao += idx[d] * as[d];
                bo += idx[d] * bs[d];
            }
            Gemm.gemm(m, n, k, av.segment(), ao, as[r], as[r + 1],
                    bv.segment(), bv.dtype(), bo, bs[r], bs[r + 1],
                    out.segment(), bi * m * n, n, null, false);
            for (int d = r - 1; d >= 0; d--) {
                if (++idx[d] < batch[d]) break;
                idx[d] = 0;
            }
        }
        return out;
    }

    private static int[] concat(int[] batch, int x, int y) {
        int[] s = java.util.Arrays.copyOf(batch, batch.length + 2);
        s[batch.length] = x;
        s[batch.length + 1] = y;
        return s;
    }
}
