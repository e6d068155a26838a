package dev.zoetrope.core.cpu;

import dev.zoetrope.core.Backend.Binary;
import dev.zoetrope.core.Backend.Unary;
import dev.zoetrope.core.DType;
import dev.zoetrope.core.Parallel;
import dev.zoetrope.core.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/** Elementwise ops with torch broadcasting. */
final class Elementwise {
    private Elementwise() {
    }

    static int[] broadcastShape(int[] a, int[] b) {
        int rank = Math.max(a.length, b.length);
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i - (rank - a.length) >= 0 ? a[i - (rank - a.length)] : 1;
            int db = i - (rank - b.length) >= 0 ? b[i - (rank - b.length)] : 1;
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException("shapes " + Arrays.toString(a) + " and " + Arrays.toString(b) + " do not broadcast");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    static Tensor binary(Binary op, Tensor a, Tensor b) {
        Kernels.requireFloat(a, "binary operand");
        Kernels.requireFloat(b, "binary operand");
        int[] shape = broadcastShape(a.shape(), b.shape());
        Tensor av = Kernels.f32(a).expand(shape);
        Tensor bv = Kernels.f32(b).expand(shape);
        Tensor out = Tensor.empty(DType.F32, shape);
        MemorySegment as = av.segment(), bs = bv.segment(), os = out.segment();
        forEachIndex(shape, av, bv, (o, ia, ib) -> {
            float x = as.getAtIndex(Kernels.F32, ia), y = bs.getAtIndex(Kernels.F32, ib);
            float r = switch (op) {
                case ADD -> x + y;
                case SUB -> x - y;
                case MUL -> x * y;
                case DIV -> x / y;
                case MAX -> Math.max(x, y);
                case MIN -> Math.min(x, y);
            };
            os.setAtIndex(Kernels.F32, o, r);
        });
        return out;
    }

    interface IndexBody {
        void apply(long out, long ia, long ib);
    }

    /** Walks the output in row-major order with the element indices of two same-shape (possibly strided) views. */
    static void forEachIndex(int[] shape, Tensor a, Tensor b, IndexBody body) {
        long n = Tensor.numel(shape);
        if (n == 0) return;
        int rank = shape.length;
        long[] sa = a.strides(), sb = b.strides();
        int inner = rank == 0 ? 1 : shape[rank - 1];
        long rows = n / inner;
        long ia0 = rank == 0 ? 0 : sa[rank - 1], ib0 = rank == 0 ? 0 : sb[rank - 1];
        Parallel.forRange(rows, Math.max(1, 16384 / Math.max(1, inner)), (r0, r1) -> {
            int[] idx = new int[Math.max(0, rank - 1)];
            long rem = r0;
            for (int d = rank - 2; d >= 0; d--) {
                idx[d] = (int) (rem % shape[d]);
                rem /= shape[d];
            }
            for (long r = r0; r < r1; r++) {
                long pa = a.offset(), pb = b.offset();
                for (int d = 0; d < rank - 1; d++) {
                    pa += idx[d] * sa[d];
                    pb += idx[d] * sb[d];
                }
                long o = r * inner;
                for (int i = 0; i < inner; i++) body.apply(o + i, pa + i * ia0, pb + i * ib0);
                for (int d = rank - 2; d >= 0; d--) {
                    if (++idx[d] < shape[d]) break;
                    idx[d] = 0;
                }
            }
        });
    }

    static Tensor unary(Unary op, Tensor a) {
        Kernels.requireFloat(a, "unary operand");
        Tensor x = Kernels.f32(a);
        Tensor out = Tensor.empty(DType.F32, x.shape());
        MemorySegment xs = x.segment(), os = out.segment();
        long off = x.offset();
        Parallel.forRange(x.numel(), 16384, (s, e) -> {
            for (long i = s; i < e; i++) {
                float v = xs.getAtIndex(Kernels.F32, off + i);
                os.setAtIndex(Kernels.F32, i, apply(op, v));
            }
        });
        return out;
    }

    static float apply(Unary op, float v) {
        return switch (op) {
            case NEG -> -v;
            case EXP -> (float) Math.exp(v);
            case LOG -> (float) Math.log(v);
            case SQRT -> (float) Math.sqrt(v);
            case RSQRT -> (float) (1.0 / Math.sqrt(v));
            case TANH -> (float) Math.tanh(v);
            case SIGMOID -> (float) (1.0 / (1.0 + Math.exp(-v)));
            case SILU -> (float) (v / (1.0 + Math.exp(-v)));
            case GELU_ERF -> (float) (0.5 * v * (1.0 + Erf.erf(v / Math.sqrt(2.0))));
            case GELU_TANH -> (float) (0.5 * v * (1.0 + Math.tanh(Math.sqrt(2.0 / Math.PI) * (v + 0.044715 * v * v * v))));
            case QUICK_GELU -> (float) (v / (1.0 + Math.exp(-1.702 * v)));
            case RELU -> Math.max(v, 0f);
            case SIN -> (float) Math.sin(v);
            case COS -> (float) Math.cos(v);
            case ABS -> Math.abs(v);
            case SQUARE -> v * v;
        };
    }

    static Tensor axpby(float alpha, Tensor a, float beta, Tensor b) {
        Kernels.requireFloat(a, "axpby operand");
        Kernels.requireFloat(b, "axpby operand");
        int[] shape = broadcastShape(a.shape(), b.shape());
        Tensor av = Kernels.f32(a).expand(shape);
        Tensor bv = Kernels.f32(b).expand(shape);
        Tensor out = Tensor.empty(DType.F32, shape);
        MemorySegment as = av.segment(), bs = bv.segment(), os = out.segment();
        forEachIndex(shape, av, bv, (o, ia, ib) ->
                os.setAtIndex(Kernels.F32, o, alpha * as.getAtIndex(Kernels.F32, ia) + beta * bs.getAtIndex(Kernels.F32, ib)));
        return out;
    }

    static Tensor affine(Tensor a, float scale, float shift) {
        Kernels.requireFloat(a, "affine operand");
        Tensor x = Kernels.f32(a);
        Tensor out = Tensor.empty(DType.F32, x.shape());
        MemorySegment xs = x.segment(), os = out.segment();
        long off = x.offset();
        Parallel.forRange(x.numel(), 16384, (s, e) -> {
            for (long i = s; i < e; i++) os.setAtIndex(Kernels.F32, i, xs.getAtIndex(Kernels.F32, off + i) * scale + shift);
        });
        return out;
    }

    static Tensor clamp(Tensor a, float min, float max) {
        Kernels.requireFloat(a, "clamp operand");
        Tensor x = Kernels.f32(a);
        Tensor out = Tensor.empty(DType.F32, x.shape());
        MemorySegment xs = x.segment(), os = out.segment();
        long off = x.offset();
        Parallel.forRange(x.numel(), 16384, (s, e) -> {
            for (long i = s; i < e; i++) {
                float v = xs.getAtIndex(Kernels.F32, off + i);
                os.setAtIndex(Kernels.F32, i, Math.min(Math.max(v, min), max));
            }
        });
        return out;
    }
}
