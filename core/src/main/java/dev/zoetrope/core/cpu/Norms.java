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

    // ---------------------------------------------------------------- row statistics

    /** Σ x[off .. off+n); {@code lanes} is scratch of FLOATS floats (see {@link Kernels#sumLanes}). */
    static double sum(MemorySegment s, long off, long n, float[] lanes) {
        double total = 0;
        long i = 0;
        if (Kernels.VECTOR) {
            long bound = n - n % FLOATS;
            while (i < bound) {
                long blockEnd = Math.min(bound, i + BLOCK);
                FloatVector acc = FloatVector.zero(F);
                for (; i < blockEnd; i += FLOATS) acc = acc.add(FloatVector.fromMemorySegment(F, s, (off + i) * 4, ORDER));
                acc.intoArray(lanes, 0);
                total += Kernels.sumLanes(lanes);
            }
        }
        for (; i < n; i++) total += s.getAtIndex(F32, off + i);
        return total;
    }

    /** Σ (x − mean)² over x[off .. off+n). */
    static double sumSquaredDeviation(MemorySegment s, long off, long n, double mean, float[] lanes) {
        double total = 0;
        long i = 0;
        if (Kernels.VECTOR) {
            long bound = n - n % FLOATS;
            FloatVector m = FloatVector.broadcast(F, (float) mean);
            while (i < bound) {
                long blockEnd = Math.min(bound, i + BLOCK);
                FloatVector acc = FloatVector.zero(F);
                for (; i < blockEnd; i += FLOATS) {
                    FloatVector d = FloatVector.fromMemorySegment(F, s, (off + i) * 4, ORDER).sub(m);
                    acc = d.fma(d, acc);
                }
                acc.intoArray(lanes, 0);
                total += Kernels.sumLanes(lanes);
            }
        }
        for (; i < n; i++) {
            double d = s.getAtIndex(F32, off + i) - mean;
            total += d * d;
        }
        return total;
    }

    /** Σ x² over x[off .. off+n). */
    static double sumSquares(MemorySegment s, long off, long n, float[] lanes) {
        double total = 0;
        long i = 0;
        if (Kernels.VECTOR) {
            long bound = n - n % FLOATS;
            while (i < bound) {
                long blockEnd = Math.min(bound, i + BLOCK);
                FloatVector acc = FloatVector.zero(F);
                for (; i < blockEnd; i += FLOATS) {
                    FloatVector v = FloatVector.fromMemorySegment(F, s, (off + i) * 4, ORDER);
                    acc = v.fma(v, acc);
                }
                acc.intoArray(lanes, 0);
                total += Kernels.sumLanes(lanes);
            }
        }
        for (; i < n; i++) {
            double v = s.getAtIndex(F32, off + i);
            total += v * v;
        }
        return total;
    }

    /**
     * out[i] = ((x[i] − meanHi) − meanLo)·scale + shift, the mean split into two floats: x − mean is then
     * nearly exact even when the mean is large against the spread (x·scale + shift would cancel there).
     */
    private static void normalize(MemorySegment xs, long xo, MemorySegment os, long oo, long n, double mean, float scale,
                                  float shift) {
        float hi = (float) mean, lo = (float) (mean - hi);
        long i = 0;
        if (Kernels.VECTOR) {
            long bound = n - n % FLOATS;
            FloatVector sc = FloatVector.broadcast(F, scale), sh = FloatVector.broadcast(F, shift);
            for (; i < bound; i += FLOATS) {
                FloatVector.fromMemorySegment(F, xs, (xo + i) * 4, ORDER).sub(hi).sub(lo).fma(sc, sh)
                        .intoMemorySegment(os, (oo + i) * 4, ORDER);
            }
        }
        for (; i < n; i++) os.setAtIndex(F32, oo + i, (xs.getAtIndex(F32, xo + i) - hi - lo) * scale + shift);
    }

    /** out[i] = x[i]·scale. */
    private static void scale(MemorySegment xs, long xo, MemorySegment os, long oo, long n, float scale) {
        long i = 0;
        if (Kernels.VECTOR) {
            long bound = n - n % FLOATS;
            for (; i < bound; i += FLOATS) {
                FloatVector.fromMemorySegment(F, xs, (xo + i) * 4, ORDER).mul(scale).intoMemorySegment(os, (oo + i) * 4, ORDER);
            }
        }
        for (; i < n; i++) os.setAtIndex(F32, oo + i, xs.getAtIndex(F32, xo + i) * scale);
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
            float[] lanes = new float[FLOATS];
            int g = ng % groups;
            long base = (long) ng * cg * spatial;
            long count = cg * spatial;
            double mean = sum(xs, xo + base, count, lanes) / count;
            double var = sumSquaredDeviation(xs, xo + base, count, mean, lanes) / count;
            double rstd = 1.0 / Math.sqrt(var + eps);
            for (int ch = 0; ch < cg; ch++) {
                int channel = g * cg + ch;
                float scale = (float) (rstd * (w == null ? 1f : w[channel]));
                long cb = base + (long) ch * spatial;
                normalize(xs, xo + cb, os, cb, spatial, mean, scale, b == null ? 0f : b[channel]);
            }
        });
        Kernels.release(xc, x);
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
            float[] lanes = new float[FLOATS];
            for (long r = r0; r < r1; r++) {
                long base = r * d;
                double mean = sum(xs, xo + base, d, lanes) / d;
                double var = sumSquaredDeviation(xs, xo + base, d, mean, lanes) / d;
                float rstd = (float) (1.0 / Math.sqrt(var + eps));
                normalizeRow(xs, xo + base, os, base, d, mean, rstd, w, b);
            }
        });
        Kernels.release(xc, x);
        return out;
    }

    /** out = ((x − meanHi) − meanLo)·rstd·w + b per element of a row (w, b optional); see {@link #normalize}. */
    private static void normalizeRow(MemorySegment xs, long xo, MemorySegment os, long oo, int d, double mean, float rstd,
                                     float[] w, float[] b) {
        float hi = (float) mean, lo = (float) (mean - hi);
        int i = 0;
        if (Kernels.VECTOR) {
            int bound = d - d % FLOATS;
            for (; i < bound; i += FLOATS) {
                FloatVector v = FloatVector.fromMemorySegment(F, xs, (xo + i) * 4, ORDER).sub(hi).sub(lo).mul(rstd);
                if (w != null) v = v.mul(FloatVector.fromArray(F, w, i));
                if (b != null) v = v.add(FloatVector.fromArray(F, b, i));
                v.intoMemorySegment(os, (oo + i) * 4, ORDER);
            }
        }
        for (; i < d; i++) {
            float v = (xs.getAtIndex(F32, xo + i) - hi - lo) * rstd;
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
            float[] lanes = new float[FLOATS];
            for (long r = r0; r < r1; r++) {
                long base = r * d;
                float rstd = (float) (1.0 / Math.sqrt(sumSquares(xs, xo + base, d, lanes) / d + eps));
                int i = 0;
                if (Kernels.VECTOR) {
                    int bound = d - d % FLOATS;
                    for (; i < bound; i += FLOATS) {
                        FloatVector v = FloatVector.fromMemorySegment(F, xs, (xo + base + i) * 4, ORDER).mul(rstd);
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
        Kernels.release(xc, x);
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
            float[] lanes = new float[FLOATS];
            for (long r = r0; r < r1; r++) softmaxRow(xs, xo + r * d, os, r * d, d, lanes);
        });
        Kernels.release(xc, x);
        return out;
    }

    static void softmaxRow(MemorySegment xs, long xo, MemorySegment os, long oo, int d, float[] lanes) {
        float max = max(xs, xo, d);
        double total = expShifted(xs, xo, os, oo, d, max, lanes);
        scale(os, oo, os, oo, d, (float) (1.0 / total));
    }

    /** Largest element (NaN if any is NaN). */
    static float max(MemorySegment s, long off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        int i = 0;
        if (Kernels.VECTOR && n >= FLOATS) {
            int bound = n - n % FLOATS;
            FloatVector acc = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            for (; i < bound; i += FLOATS) acc = acc.max(FloatVector.fromMemorySegment(F, s, (off + i) * 4, ORDER));
            max = acc.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) max = Math.max(max, s.getAtIndex(F32, off + i));
        return max;
    }

    /** Elements per staging chunk for the vector exp. */
    private static final int CHUNK = 1024;
    private static final ThreadLocal<float[]> STAGING = ThreadLocal.withInitial(() -> new float[CHUNK]);

    /** out = exp(x − shift); returns Σ out. The vector path stages chunks in a float[] for {@link VectorMath#exp}. */
    private static double expShifted(MemorySegment xs, long xo, MemorySegment os, long oo, int n, float shift, float[] lanes) {
        double total = 0;
        int i = 0;
        if (Kernels.VECTOR) {
            float[] buf = STAGING.get();
            int bound = n - n % FLOATS;
            FloatVector sh = FloatVector.broadcast(F, shift);
            while (i < bound) {
                int len = Math.min(CHUNK, bound - i);
                for (int j = 0; j < len; j += FLOATS) {
                    FloatVector.fromMemorySegment(F, xs, (xo + i + j) * 4, ORDER).sub(sh).intoArray(buf, j);
                }
                VectorMath.exp(buf, 0, len);
                for (int j = 0; j < len; j += BLOCK) { // float lanes per block, blocks added in double
                    FloatVector acc = FloatVector.zero(F);
                    for (int k = j, e = Math.min(len, j + BLOCK); k < e; k += FLOATS) {
                        acc = acc.add(FloatVector.fromArray(F, buf, k));
                    }
                    acc.intoArray(lanes, 0);
                total += Kernels.sumLanes(lanes);
                }
                MemorySegment.copy(buf, 0, os, F32, (oo + i) * 4, len);
                i += len;
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
