package dev.zoetrope.core.cpu;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Parallel;
import dev.zoetrope.core.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.zoetrope.core.cpu.Kernels.F;
import static dev.zoetrope.core.cpu.Kernels.F32;
import static dev.zoetrope.core.cpu.Kernels.FLOATS;
import static dev.zoetrope.core.cpu.Kernels.ORDER;

/**
 * GroupNorm, LayerNorm, RMSNorm and softmax over contiguous rows. Statistics are two-pass (mean, then the
 * sum of squared deviations) and accumulate in double: the vector path sums short blocks in float lanes
 * and adds each block's total to a double, the scalar path adds every element in double. Each row or group
 * is one task, so results do not depend on the thread count.
 */
final class Norms {
    private Norms() {
    }

    /** Elements per float block before its sum is moved into the double accumulator. */
    private static final int BLOCK = 256;
    /** Rows are grouped into tasks of about this many elements. */
    private static final int ROW_GRAIN = 1 << 14;

    static float[] optional(Tensor t, int n, String what) {
        if (t == null) return null;
        if (t.numel() != n) throw Kernels.shapeError(what, n + " values", t);
        return t.toFloatArray();
    }

    private static FloatVector load(MemorySegment s, long index) {
        return FloatVector.fromMemorySegment(F, s, index * 4, ORDER);
    }

    // ---------------------------------------------------------------- row statistics

    /** Σ x[off .. off+n). */
    static double sum(MemorySegment s, long off, long n) {
        double total = 0;
        long i = 0;
        if (Kernels.VECTOR) {
            long bound = n - n % FLOATS;
            while (i < bound) {
                long blockEnd = Math.min(bound, i + BLOCK);
                FloatVector acc = FloatVector.zero(F);
                for (; i < blockEnd; i += FLOATS) acc = acc.add(load(s, off + i));
                total += acc.reduceLanes(VectorOperators.ADD);
            }
        }
        for (; i < n; i++) total += s.getAtIndex(F32, off + i);
        return total;
    }

    /** Σ (x − mean)² over x[off .. off+n). */
    static double sumSquaredDeviation(MemorySegment s, long off, long n, double mean) {
        double total = 0;
        long i = 0;
        if (Kernels.VECTOR) {
            long bound = n - n % FLOATS;
            FloatVector m = FloatVector.broadcast(F, (float) mean);
            while (i < bound) {
                long blockEnd = Math.min(bound, i + BLOCK);
                FloatVector acc = FloatVector.zero(F);
                for (; i < blockEnd; i += FLOATS) {
                    FloatVector d = load(s, off + i).sub(m);
                    acc = d.fma(d, acc);
                }
                total += acc.reduceLanes(VectorOperators.ADD);
            }
        }
        for (; i < n; i++) {
            double d = s.getAtIndex(F32, off + i) - mean;
            total += d * d;
        }
        return total;
    }

    /** Σ x² over x[off .. off+n). */
    static double sumSquares(MemorySegment s, long off, long n) {
        double total = 0;
        long i = 0;
        if (Kernels.VECTOR) {
            long bound = n - n % FLOATS;
            while (i < bound) {
                long blockEnd = Math.min(bound, i + BLOCK);
                FloatVector acc = FloatVector.zero(F);
                for (; i < blockEnd; i += FLOATS) {
                    FloatVector v = load(s, off + i);
                    acc = v.fma(v, acc);
                }
                total += acc.reduceLanes(VectorOperators.ADD);
            }
        }
        for (; i < n; i++) {
            double v = s.getAtIndex(F32, off + i);
            total += v * v;
        }
        return total;
    }

    /** out[i] = x[i]·scale + shift. */
    private static void scaleShift(MemorySegment xs, long xo, MemorySegment os, long oo, long n, float scale, float shift) {
        long i = 0;
        if (Kernels.VECTOR) {
            long bound = n - n % FLOATS;
            FloatVector sc = FloatVector.broadcast(F, scale), sh = FloatVector.broadcast(F, shift);
            for (; i < bound; i += FLOATS) load(xs, xo + i).fma(sc, sh).intoMemorySegment(os, (oo + i) * 4, ORDER);
        }
        for (; i < n; i++) os.setAtIndex(F32, oo + i, xs.getAtIndex(F32, xo + i) * scale + shift);
    }

    // ---------------------------------------------------------------- group norm

    /** torch.nn.GroupNorm: per (sample, group) statistics over C/groups channels × all positions. */
    static Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps) {
        Kernels.requireFloat(x, "groupNorm input");
        if (groups < 1 || x.rank() < 2 || x.dim(1) % groups != 0) {
            throw Kernels.shapeError("groupNorm", "x[N, C, ...] with C divisible by groups=" + groups, x);
        }
        Tensor xc = Kernels.f32(x);
        int n = x.dim(0), c = x.dim(1);
        long spatial = c == 0 || n == 0 ? 0 : xc.numel() / ((long) n * c);
        int cg = c / groups;
        float[] w = optional(weight, c, "groupNorm weight");
        float[] b = optional(bias, c, "groupNorm bias");
        Tensor out = Tensor.empty(DType.F32, x.shape());
        if (out.numel() == 0) return out;
        MemorySegment xs = xc.segment(), os = out.segment();
        long xo = xc.offset();
        Parallel.forEach(n * groups, ng -> {
            int g = ng % groups;
            long base = (long) ng * cg * spatial;
            long count = cg * spatial;
            double mean = sum(xs, xo + base, count) / count;
            double var = sumSquaredDeviation(xs, xo + base, count, mean) / count;
            double rstd = 1.0 / Math.sqrt(var + eps);
            for (int ch = 0; ch < cg; ch++) {
                int channel = g * cg + ch;
                float scale = (float) (rstd * (w == null ? 1f : w[channel]));
                float shift = (float) ((b == null ? 0f : b[channel]) - mean * scale);
                long cb = base + (long) ch * spatial;
                scaleShift(xs, xo + cb, os, cb, spatial, scale, shift);
            }
        });
        return out;
    }

    // ---------------------------------------------------------------- layer norm / rms norm

    /** torch.nn.functional.layer_norm over the last dimension. */
    static Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, float eps) {
        Kernels.requireFloat(x, "layerNorm input");
        if (x.rank() < 1) throw Kernels.shapeError("layerNorm", "x[..., D]", x);
        Tensor xc = Kernels.f32(x);
        int d = x.dim(-1);
        float[] w = optional(weight, d, "layerNorm weight");
        float[] b = optional(bias, d, "layerNorm bias");
        Tensor out = Tensor.empty(DType.F32, x.shape());
        if (out.numel() == 0) return out;
        long rows = xc.numel() / d;
        MemorySegment xs = xc.segment(), os = out.segment();
        long xo = xc.offset();
        Parallel.forRange(rows, Math.max(1, ROW_GRAIN / d), (r0, r1) -> {
            for (long r = r0; r < r1; r++) {
                long base = r * d;
                double mean = sum(xs, xo + base, d) / d;
                double var = sumSquaredDeviation(xs, xo + base, d, mean) / d;
                float rstd = (float) (1.0 / Math.sqrt(var + eps));
                float shift = (float) (-mean * rstd);
                affineRow(xs, xo + base, os, base, d, rstd, shift, w, b);
            }
        });
        return out;
    }

    /** out = (x·scale + shift)·w + b per element of a row (w, b optional). */
    private static void affineRow(MemorySegment xs, long xo, MemorySegment os, long oo, int d, float scale, float shift,
                                  float[] w, float[] b) {
        int i = 0;
        if (Kernels.VECTOR) {
            int bound = d - d % FLOATS;
            FloatVector sc = FloatVector.broadcast(F, scale), sh = FloatVector.broadcast(F, shift);
            for (; i < bound; i += FLOATS) {
                FloatVector v = load(xs, xo + i).fma(sc, sh);
                if (w != null) v = v.mul(FloatVector.fromArray(F, w, i));
                if (b != null) v = v.add(FloatVector.fromArray(F, b, i));
                v.intoMemorySegment(os, (oo + i) * 4, ORDER);
            }
        }
        for (; i < d; i++) {
            float v = xs.getAtIndex(F32, xo + i) * scale + shift;
            if (w != null) v *= w[i];
            if (b != null) v += b[i];
            os.setAtIndex(F32, oo + i, v);
        }
    }

    /**
     * RMSNorm as transformers computes it in float32: x·rsqrt(mean(x²) + eps), then ·weight (the mean of
     * squares accumulates in double here).
     */
    static Tensor rmsNorm(Tensor x, Tensor weight, float eps) {
        Kernels.requireFloat(x, "rmsNorm input");
        if (x.rank() < 1) throw Kernels.shapeError("rmsNorm", "x[..., D]", x);
        Tensor xc = Kernels.f32(x);
        int d = x.dim(-1);
        float[] w = optional(weight, d, "rmsNorm weight");
        Tensor out = Tensor.empty(DType.F32, x.shape());
        if (out.numel() == 0) return out;
        long rows = xc.numel() / d;
        MemorySegment xs = xc.segment(), os = out.segment();
        long xo = xc.offset();
        Parallel.forRange(rows, Math.max(1, ROW_GRAIN / d), (r0, r1) -> {
            for (long r = r0; r < r1; r++) {
                long base = r * d;
                float rstd = (float) (1.0 / Math.sqrt(sumSquares(xs, xo + base, d) / d + eps));
                int i = 0;
                if (Kernels.VECTOR) {
                    int bound = d - d % FLOATS;
                    for (; i < bound; i += FLOATS) {
                        FloatVector v = load(xs, xo + base + i).mul(rstd);
                        if (w != null) v = v.mul(FloatVector.fromArray(F, w, i));
                        v.intoMemorySegment(os, (base + i) * 4, ORDER);
                    }
                }
                for (; i < d; i++) {
                    float v = xs.getAtIndex(F32, xo + base + i) * rstd;
                    if (w != null) v *= w[i];
                    os.setAtIndex(F32, base + i, v);
                }
            }
        });
        return out;
    }

    // ---------------------------------------------------------------- softmax

    /** Softmax over the last dimension: exp(x − max) / Σ, the sum in double (a row of −∞ gives NaN, as torch). */
    static Tensor softmax(Tensor x) {
        Kernels.requireFloat(x, "softmax input");
        if (x.rank() < 1) throw Kernels.shapeError("softmax", "x[..., D]", x);
        Tensor xc = Kernels.f32(x);
        int d = x.dim(-1);
        Tensor out = Tensor.empty(DType.F32, x.shape());
        if (out.numel() == 0) return out;
        long rows = xc.numel() / d;
        MemorySegment xs = xc.segment(), os = out.segment();
        long xo = xc.offset();
        Parallel.forRange(rows, Math.max(1, ROW_GRAIN / 4 / d), (r0, r1) -> {
            for (long r = r0; r < r1; r++) softmaxRow(xs, xo + r * d, os, r * d, d);
        });
        return out;
    }

    static void softmaxRow(MemorySegment xs, long xo, MemorySegment os, long oo, int d) {
        float max = max(xs, xo, d);
        double total = expShifted(xs, xo, os, oo, d, max);
        float inv = (float) (1.0 / total);
        scaleShift(os, oo, os, oo, d, inv, 0f);
    }

    /** Largest element (NaN if any is NaN). */
    static float max(MemorySegment s, long off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        int i = 0;
        if (Kernels.VECTOR && n >= FLOATS) {
            int bound = n - n % FLOATS;
            FloatVector acc = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            for (; i < bound; i += FLOATS) acc = acc.max(load(s, off + i));
            max = acc.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) max = Math.max(max, s.getAtIndex(F32, off + i));
        return max;
    }

    /** out = exp(x − shift); returns Σ out. */
    private static double expShifted(MemorySegment xs, long xo, MemorySegment os, long oo, int n, float shift) {
        double total = 0;
        int i = 0;
        if (Kernels.VECTOR) {
            int bound = n - n % FLOATS;
            FloatVector sh = FloatVector.broadcast(F, shift);
            while (i < bound) {
                int blockEnd = Math.min(bound, i + BLOCK);
                FloatVector acc = FloatVector.zero(F);
                for (; i < blockEnd; i += FLOATS) {
                    FloatVector e = VectorMath.exp(load(xs, xo + i).sub(sh));
                    e.intoMemorySegment(os, (oo + i) * 4, ORDER);
                    acc = acc.add(e);
                }
                total += acc.reduceLanes(VectorOperators.ADD);
            }
        }
        for (; i < n; i++) {
            float e = (float) Math.exp(xs.getAtIndex(F32, xo + i) - shift);
            os.setAtIndex(F32, oo + i, e);
            total += e;
        }
        return total;
    }
}
