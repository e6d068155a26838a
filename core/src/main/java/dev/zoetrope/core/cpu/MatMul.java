package dev.zoetrope.core.cpu;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Parallel;
import dev.zoetrope.core.Tensor;

import java.util.Arrays;

/** linear and batched matmul on top of {@link Gemm}. */
final class MatMul {
    private MatMul() {
    }

    /** Batches smaller than this many multiply-adds run one per task instead of each spreading over the pool. */
    private static final long SMALL_PRODUCT = 1L << 18;

    static float[] biasArray(Tensor bias, int n, String op) {
        if (bias == null) return null;
        if (bias.rank() != 1 || bias.dim(0) != n) throw Kernels.shapeError(op, "bias of length " + n, bias);
        return bias.toFloatArray();
    }

    /** x[..., in] · weight[out, in]ᵀ + bias[out]; the weight is read in place in its stored dtype and layout. */
    static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        Kernels.requireFloat(x, "linear input");
        Kernels.requireFloat(weight, "linear weight");
        if (weight.rank() != 2 || x.rank() < 1 || x.dim(-1) != weight.dim(1)) {
            throw Kernels.shapeError("linear", "x[..., in] and weight[out, in]", x, weight);
        }
        int in = weight.dim(1), out = weight.dim(0);
        Tensor xc = Kernels.f32(x);
        Tensor w = weight.dtype() == DType.F64 ? weight.to(DType.F32) : weight;
        int[] outShape = x.shape();
        outShape[outShape.length - 1] = out;
        int m = (int) (Tensor.numel(outShape) / Math.max(1, out));
        Tensor y = Tensor.empty(DType.F32, outShape);
        // B[in, out] = weightᵀ: row stride = weight's column stride and vice versa.
        Gemm.gemm(m, out, in,
                xc.segment(), xc.offset(), in, 1,
                w.segment(), w.dtype(), w.offset(), w.stride(1), w.stride(0),
                y.segment(), 0, out, biasArray(bias, out, "linear"), false);
        return y;
    }

    /** a[..., m, k] · b[..., k, n] with broadcast batch dims; both operands are read through their strides. */
    static Tensor matmul(Tensor a, Tensor b) {
        Kernels.requireFloat(a, "matmul operand");
        Kernels.requireFloat(b, "matmul operand");
        if (a.rank() < 2 || b.rank() < 2 || a.dim(-1) != b.dim(-2)) {
            throw Kernels.shapeError("matmul", "a[..., m, k] and b[..., k, n]", a, b);
        }
        int m = a.dim(-2), k = a.dim(-1), n = b.dim(-1);
        int[] batch = Elementwise.broadcastShape(Arrays.copyOf(a.shape(), a.rank() - 2), Arrays.copyOf(b.shape(), b.rank() - 2));
        Tensor av = a.dtype() == DType.F64 ? a.to(DType.F32) : a;
        Tensor bv = b.dtype() == DType.F64 ? b.to(DType.F32) : b;
        av = av.expand(concat(batch, m, k));
        bv = bv.expand(concat(batch, k, n));
        Tensor out = Tensor.empty(DType.F32, concat(batch, m, n));
        long batches = Tensor.numel(batch);
        if (batches > Integer.MAX_VALUE) throw new IllegalArgumentException("matmul: too many batches " + batches);
        long[] as = av.strides(), bs = bv.strides();
        int r = batch.length;
        Tensor fa = av, fb = bv;
        // Results do not depend on how work is split, so small products may run one batch per task.
        java.util.function.IntConsumer one = bi -> {
            long ao = fa.offset(), bo = fb.offset();
            long rest = bi;
            for (int d = r - 1; d >= 0; d--) {
                long idx = rest % batch[d];
                rest /= batch[d];
                ao += idx * as[d];
                bo += idx * bs[d];
            }
            Gemm.gemm(m, n, k, fa.segment(), fa.dtype(), ao, as[r], as[r + 1],
                    fb.segment(), fb.dtype(), bo, bs[r], bs[r + 1],
                    out.segment(), (long) bi * m * n, n, null, null, false);
        };
        if (batches > 1 && (long) m * n * k < SMALL_PRODUCT) {
            Parallel.forEach((int) batches, one);
        } else {
            for (int bi = 0; bi < batches; bi++) one.accept(bi);
        }
        return out;
    }

    private static int[] concat(int[] batch, int x, int y) {
        int[] s = Arrays.copyOf(batch, batch.length + 2);
        s[batch.length] = x;
        s[batch.length + 1] = y;
        return s;
    }
}
