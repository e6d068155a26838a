package dev.zoetrope.core.cpu;

import dev.zoetrope.core.Backend.Binary;
import dev.zoetrope.core.Backend.Unary;
import dev.zoetrope.core.DType;
import dev.zoetrope.core.Parallel;
import dev.zoetrope.core.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static dev.zoetrope.core.cpu.Kernels.F;
import static dev.zoetrope.core.cpu.Kernels.F32;
import static dev.zoetrope.core.cpu.Kernels.FLOATS;
import static dev.zoetrope.core.cpu.Kernels.ORDER;

/**
 * Elementwise ops with torch broadcasting. Operands are read through their strides (no contiguous copy for
 * F32 views); the output is contiguous. Dimensions are coalesced first, so the common layouts reduce to a
 * few row shapes, each with a vector loop: both operands contiguous, one broadcast as a scalar along the row
 * (channel bias on NCHW), or the row repeated (bias along the last dim). Work is split into fixed-size
 * element ranges, so results do not depend on the thread count.
 */
final class Elementwise {
    private Elementwise() {
    }

    /** Elements per parallel task: cheap ops are memory bound, so tasks stay large. */
    private static final long GRAIN = 1 << 15;
    /** Transcendental ops cost ~10–30 flops per element: smaller tasks balance better. */
    private static final long GRAIN_HEAVY = 1 << 13;

    static int[] broadcastShape(int[] a, int[] b) {
        int rank = Math.max(a.length, b.length);
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i - (rank - a.length) >= 0 ? a[i - (rank - a.length)] : 1;
            int db = i - (rank - b.length) >= 0 ? b[i - (rank - b.length)] : 1;
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException("shapes " + Arrays.toString(a) + " and " + Arrays.toString(b)
                        + " do not broadcast");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    // ---------------------------------------------------------------- iteration

    /** Called for each run of consecutive output elements whose operand elements advance by fixed strides. */
    interface Segment {
        void run(long out, long ia, long strideA, long ib, long strideB, int len);
    }

    /**
     * A contiguous output of some shape together with one or two operands viewed (via strides, possibly 0 for
     * broadcast dims) in that shape. Size-1 dims are dropped and neighbouring dims merged wherever every
     * operand's layout allows, so e.g. a bias [C] added to [N, L, C] walks rows of C with both strides 1.
     */
    static final class Walk {
        final int[] shape;
        final long[] sa, sb;
        final long aOff, bOff;
        final long numel;

        Walk(int[] outShape, Tensor a, Tensor b) {
            long[] as = a.strides(), bs = b == null ? new long[outShape.length] : b.strides();
            int[] sh = new int[Math.max(1, outShape.length)];
            long[] na = new long[sh.length], nb = new long[sh.length];
            int r = 0;
            for (int d = outShape.length - 1; d >= 0; d--) {
                if (outShape[d] == 1) continue;
                if (r > 0 && as[d] == na[r - 1] * sh[r - 1] && bs[d] == nb[r - 1] * sh[r - 1]) {
                    sh[r - 1] *= outShape[d];
                } else {
                    sh[r] = outShape[d];
                    na[r] = as[d];
                    nb[r] = bs[d];
                    r++;
                }
            }
            if (r == 0) {
                sh[0] = 1;
                r = 1;
            }
            // collected innermost first: reverse into row-major order
            shape = new int[r];
            sa = new long[r];
            sb = new long[r];
            for (int i = 0; i < r; i++) {
                shape[i] = sh[r - 1 - i];
                sa[i] = na[r - 1 - i];
                sb[i] = nb[r - 1 - i];
            }
            aOff = a.offset();
            bOff = b == null ? 0 : b.offset();
            numel = Tensor.numel(outShape);
        }

        /** Visits output elements [start, end) as row segments. */
        void segments(long start, long end, Segment body) {
            int r = shape.length;
            int inner = shape[r - 1];
            long row = start / inner;
            int col = (int) (start % inner);
            int[] idx = new int[r];
            long rem = row;
            for (int d = r - 2; d >= 0; d--) {
                idx[d] = (int) (rem % shape[d]);
                rem /= shape[d];
            }
            long pos = start;
            while (pos < end) {
                long pa = aOff + col * sa[r - 1], pb = bOff + col * sb[r - 1];
                for (int d = 0; d < r - 1; d++) {
                    pa += idx[d] * sa[d];
                    pb += idx[d] * sb[d];
                }
                int len = (int) Math.min(inner - col, end - pos);
                body.run(pos, pa, sa[r - 1], pb, sb[r - 1], len);
                pos += len;
                col = 0;
                for (int d = r - 2; d >= 0; d--) {
                    if (++idx[d] < shape[d]) break;
                    idx[d] = 0;
                }
            }
        }

        void parallel(long grain, Segment body) {
            Parallel.forRange(numel, grain, (s, e) -> segments(s, e, body));
        }
    }

    // ---------------------------------------------------------------- binary

    static Tensor binary(Binary op, Tensor a, Tensor b) {
        Kernels.requireFloat(a, "binary operand");
        Kernels.requireFloat(b, "binary operand");
        int[] shape = broadcastShape(a.shape(), b.shape());
        Tensor av = Kernels.f32Strided(a).expand(shape);
        Tensor bv = Kernels.f32Strided(b).expand(shape);
        Tensor out = Tensor.empty(DType.F32, shape);
        MemorySegment as = av.segment(), bs = bv.segment(), os = out.segment();
        new Walk(shape, av, bv).parallel(GRAIN, (o, ia, sa, ib, sb, len) -> {
            if (Kernels.VECTOR) binaryVector(op, os, o, as, ia, sa, bs, ib, sb, len);
            else binaryScalar(op, os, o, as, ia, sa, bs, ib, sb, len);
        });
        Kernels.release(av, a);
        Kernels.release(bv, b);
        return out;
    }

    static float apply(Binary op, float x, float y) {
        return switch (op) {
            case ADD -> x + y;
            case SUB -> x - y;
            case MUL -> x * y;
            case DIV -> x / y;
            case MAX -> Math.max(x, y);
            case MIN -> Math.min(x, y);
        };
    }

    private static void binaryScalar(Binary op, MemorySegment os, long o, MemorySegment as, long ia, long sa,
                                     MemorySegment bs, long ib, long sb, int len) {
        for (int i = 0; i < len; i++) {
            os.setAtIndex(F32, o + i, apply(op, as.getAtIndex(F32, ia + i * sa), bs.getAtIndex(F32, ib + i * sb)));
        }
    }

    /**
     * Vector loops for the three row shapes (both operands advancing, or one of them a broadcast scalar);
     * other strides and the tail go element by element. The op switch sits inside each loop: vectors must
     * not cross a call (see {@link VectorMath}).
     */
    private static void binaryVector(Binary op, MemorySegment os, long o, MemorySegment as, long ia, long sa,
                                     MemorySegment bs, long ib, long sb, int len) {
        int i = 0;
        int bound = len - len % FLOATS;
        if ((sa == 1 || sa == 0) && (sb == 1 || sb == 0) && !(sa == 0 && sb == 0)) {
            FloatVector xs = FloatVector.broadcast(F, as.getAtIndex(F32, ia));
            FloatVector ys = FloatVector.broadcast(F, bs.getAtIndex(F32, ib));
            for (; i < bound; i += FLOATS) {
                FloatVector x = sa == 1 ? FloatVector.fromMemorySegment(F, as, (ia + i) * 4, ORDER) : xs;
                FloatVector y = sb == 1 ? FloatVector.fromMemorySegment(F, bs, (ib + i) * 4, ORDER) : ys;
                FloatVector r = switch (op) {
                    case ADD -> x.add(y);
                    case SUB -> x.sub(y);
                    case MUL -> x.mul(y);
                    case DIV -> x.div(y);
                    case MAX -> x.max(y);
                    case MIN -> x.min(y);
                };
                r.intoMemorySegment(os, (o + i) * 4, ORDER);
            }
        }
        for (; i < len; i++) {
            os.setAtIndex(F32, o + i, apply(op, as.getAtIndex(F32, ia + i * sa), bs.getAtIndex(F32, ib + i * sb)));
        }
    }

    /** {@code alpha·a + beta·b} with broadcasting (rounded as two products and a sum, no FMA). */
    static Tensor axpby(float alpha, Tensor a, float beta, Tensor b) {
        Kernels.requireFloat(a, "axpby operand");
        Kernels.requireFloat(b, "axpby operand");
        int[] shape = broadcastShape(a.shape(), b.shape());
        Tensor av = Kernels.f32Strided(a).expand(shape);
        Tensor bv = Kernels.f32Strided(b).expand(shape);
        Tensor out = Tensor.empty(DType.F32, shape);
        MemorySegment as = av.segment(), bs = bv.segment(), os = out.segment();
        new Walk(shape, av, bv).parallel(GRAIN, (o, ia, sa, ib, sb, len) -> {
            int i = 0;
            if (Kernels.VECTOR && sa == 1 && (sb == 1 || sb == 0)) {
                int bound = len - len % FLOATS;
                FloatVector bScalar = FloatVector.broadcast(F, bs.getAtIndex(F32, ib));
                for (; i < bound; i += FLOATS) {
                    FloatVector y = sb == 1 ? FloatVector.fromMemorySegment(F, bs, (ib + i) * 4, ORDER) : bScalar;
                    FloatVector.fromMemorySegment(F, as, (ia + i) * 4, ORDER).mul(alpha).add(y.mul(beta))
                            .intoMemorySegment(os, (o + i) * 4, ORDER);
                }
            }
            for (; i < len; i++) {
                os.setAtIndex(F32, o + i, alpha * as.getAtIndex(F32, ia + i * sa) + beta * bs.getAtIndex(F32, ib + i * sb));
            }
        });
        Kernels.release(av, a);
        Kernels.release(bv, b);
        return out;
    }

    // ---------------------------------------------------------------- unary

    /** The unary ops plus the two parameterised maps that share their kernel. */
    private enum Map {
        NEG, EXP, LOG, SQRT, RSQRT, TANH, SIGMOID, SILU, GELU_ERF, GELU_TANH, QUICK_GELU, RELU, SIN, COS, ABS, SQUARE,
        AFFINE, CLAMP;

        static Map of(Unary u) {
            return valueOf(u.name());
        }

        boolean heavy() {
            return switch (this) {
                case NEG, RELU, ABS, SQUARE, AFFINE, CLAMP, SQRT, RSQRT -> false;
                default -> true;
            };
        }
    }

    static Tensor unary(Unary op, Tensor a) {
        Kernels.requireFloat(a, "unary operand (" + op + ")");
        return map(Map.of(op), a, 0f, 0f);
    }

    /** {@code a·scale + shift} (two roundings, as torch's mul then add). */
    static Tensor affine(Tensor a, float scale, float shift) {
        Kernels.requireFloat(a, "affine operand");
        return map(Map.AFFINE, a, scale, shift);
    }

    /** min(max(a, min), max); NaN stays NaN. */
    static Tensor clamp(Tensor a, float min, float max) {
        Kernels.requireFloat(a, "clamp operand");
        return map(Map.CLAMP, a, min, max);
    }

    private static Tensor map(Map fn, Tensor a, float p, float q) {
        Tensor x = Kernels.f32Strided(a);
        int[] shape = x.shape();
        Tensor out = Tensor.empty(DType.F32, shape);
        MemorySegment xs = x.segment(), os = out.segment();
        new Walk(shape, x, null).parallel(fn.heavy() ? GRAIN_HEAVY : GRAIN, (o, ia, sa, ib, sb, len) -> {
            int done = Kernels.VECTOR && sa == 1 && len >= FLOATS ? mapVector(fn, xs, ia, os, o, len, p, q) : 0;
            for (int i = done; i < len; i++) os.setAtIndex(F32, o + i, apply(fn, xs.getAtIndex(F32, ia + i * sa), p, q));
        });
        Kernels.release(x, a);
        return out;
    }

    /** Scalar path: the exact function in double, rounded once to float. */
    static float apply(Unary op, float v) {
        return apply(Map.of(op), v, 0f, 0f);
    }

    private static float apply(Map fn, float v, float p, float q) {
        return switch (fn) {
            case NEG -> -v;
            case EXP -> (float) Math.exp(v);
            case LOG -> (float) Math.log(v);
            case SQRT -> (float) Math.sqrt(v);
            case RSQRT -> (float) (1.0 / Math.sqrt(v));
            case TANH -> (float) Math.tanh(v);
            case SIGMOID -> (float) (1.0 / (1.0 + Math.exp(-v)));
            case SILU -> (float) (v / (1.0 + Math.exp(-v)));
            // ½x(1 + erf(x/√2)) = ½x·erfc(−x/√2) and ½x(1 + tanh(u)) = x/(1 + e^{−2u}): no cancellation for x < 0
            case GELU_ERF -> (float) (0.5 * v * Erf.erfc(-v / Math.sqrt(2.0)));
            case GELU_TANH -> (float) (v / (1.0 + Math.exp(-2 * Math.sqrt(2.0 / Math.PI) * (v + 0.044715 * v * v * v))));
            case QUICK_GELU -> (float) (v / (1.0 + Math.exp(-1.702 * v)));
            case RELU -> v > 0f || Float.isNaN(v) ? v : 0f;
            case SIN -> (float) Math.sin(v);
            case COS -> (float) Math.cos(v);
            case ABS -> Math.abs(v);
            case SQUARE -> v * v;
            case AFFINE -> v * p + q;
            case CLAMP -> Math.min(Math.max(v, p), q);
        };
    }

    private static final float SQRT_2_OVER_PI = 7.978845835e-01f;

    /** Elements per staging chunk of the transcendental functions (they work on float[], see VectorMath). */
    private static final int CHUNK = 1024;

    /** Per-thread staging buffers: input, a temporary, output. */
    private static final ThreadLocal<float[][]> STAGING = ThreadLocal.withInitial(() -> new float[3][CHUNK]);

    /**
     * Vector path over a contiguous run; returns how many elements it wrote (a multiple of the vector
     * length, the rest is left to the scalar loop). Cheap maps stream straight through memory; the
     * transcendental ones stage chunks in float[] for {@link VectorMath}.
     */
    private static int mapVector(Map fn, MemorySegment xs, long ia, MemorySegment os, long o, int len, float p, float q) {
        int bound = len - len % FLOATS;
        if (fn.heavy()) {
            float[][] buffers = STAGING.get();
            for (int c = 0; c < bound; c += CHUNK) {
                int n = Math.min(CHUNK, bound - c);
                MemorySegment.copy(xs, F32, (ia + c) * 4, buffers[0], 0, n);
                float[] result = transcendental(fn, buffers[0], buffers[1], buffers[2], n);
                MemorySegment.copy(result, 0, os, F32, (o + c) * 4, n);
            }
            return bound;
        }
        for (int i = 0; i < bound; i += FLOATS) {
            FloatVector v = FloatVector.fromMemorySegment(F, xs, (ia + i) * 4, ORDER);
            FloatVector r = switch (fn) {
                case NEG -> v.neg();
                case SQRT -> v.lanewise(VectorOperators.SQRT);
                case RSQRT -> FloatVector.broadcast(F, 1f).div(v.lanewise(VectorOperators.SQRT));
                case RELU -> v.max(0f);
                case ABS -> v.abs();
                case SQUARE -> v.mul(v);
                case AFFINE -> v.mul(p).add(q);
                case CLAMP -> v.max(p).min(q);
                default -> throw new IllegalStateException(fn + " is not a cheap map");
            };
            r.intoMemorySegment(os, (o + i) * 4, ORDER);
        }
        return bound;
    }

    /** fn over x[0..n) (n a multiple of the vector length) using t and y as scratch; returns the array holding the result. */
    private static float[] transcendental(Map fn, float[] x, float[] t, float[] y, int n) {
        switch (fn) {
            case EXP -> {
                VectorMath.exp(x, 0, n);
                return x;
            }
            case LOG -> {
                VectorMath.log(x, 0, n);
                return x;
            }
            case SIN -> {
                VectorMath.sin(x, 0, n);
                return x;
            }
            case COS -> {
                VectorMath.cos(x, 0, n);
                return x;
            }
            case TANH -> VectorMath.tanh(x, y, 0, n);
            case SIGMOID -> VectorMath.sigmoid(x, y, 0, n);
            case GELU_ERF -> VectorMath.geluErf(x, y, 0, n);
            case SILU -> {
                VectorMath.sigmoid(x, y, 0, n);
                multiplyInto(y, x, n);
            }
            case QUICK_GELU -> { // x·sigmoid(1.702x)
                for (int i = 0; i < n; i += FLOATS) FloatVector.fromArray(F, x, i).mul(1.702f).intoArray(t, i);
                VectorMath.sigmoid(t, y, 0, n);
                multiplyInto(y, x, n);
            }
            case GELU_TANH -> { // ½x(1 + tanh(u)) = x·sigmoid(2u), u = √(2/π)(x + 0.044715x³): no cancellation for x < 0
                for (int i = 0; i < n; i += FLOATS) {
                    FloatVector v = FloatVector.fromArray(F, x, i);
                    v.mul(v).mul(0.044715f).fma(v, v).mul(2f * SQRT_2_OVER_PI).intoArray(t, i);
                }
                VectorMath.sigmoid(t, y, 0, n);
                multiplyInto(y, x, n);
            }
            default -> throw new IllegalStateException(fn + " is not transcendental");
        }
        return y;
    }

    /** y[i] *= x[i]. */
    private static void multiplyInto(float[] y, float[] x, int n) {
        for (int i = 0; i < n; i += FLOATS) FloatVector.fromArray(F, y, i).mul(FloatVector.fromArray(F, x, i)).intoArray(y, i);
    }
}
