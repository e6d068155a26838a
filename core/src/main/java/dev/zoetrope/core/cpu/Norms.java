package dev.zoetrope.core.cpu;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Parallel;
import dev.zoetrope.core.Tensor;

import java.lang.foreign.MemorySegment;

/** GroupNorm, LayerNorm, RMSNorm and softmax. Statistics accumulate in double; results are F32. */
final class Norms {
    private Norms() {
    }

    static float[] optional(Tensor t, int n, String what) {
        if (t == null) return null;
        if (t.numel() != n) throw Kernels.shapeError(what, n + " values", t);
        return t.toFloatArray();
    }

    static Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps) {
        Kernels.requireFloat(x, "groupNorm input");
        if (x.rank() < 2 || x.dim(1) % groups != 0) throw Kernels.shapeError("groupNorm", "x[N, C, ...] with C divisible by " + groups, x);
        Tensor xc = Kernels.f32(x);
        int n = x.dim(0), c = x.dim(1);
        long spatial = xc.numel() / ((long) n * c);
        int cg = c / groups;
        float[] w = optional(weight, c, "groupNorm weight");
        float[] b = optional(bias, c, "groupNorm bias");
        Tensor out = Tensor.empty(DType.F32, x.shape());
        MemorySegment xs = xc.segment(), os = out.segment();
        long xo = xc.offset();
        Parallel.forEach(n * groups, ng -> {
            int g = ng % groups;
            long base = (long) ng * cg * spatial;
            long count = cg * spatial;
            double sum = 0, sq = 0;
            for (long i = 0; i < count; i++) {
                double v = xs.getAtIndex(Kernels.F32, xo + base + i);
                sum += v;
            }
            double mean = sum / count;
            for (long i = 0; i < count; i++) {
                double d = xs.getAtIndex(Kernels.F32, xo + base + i) - mean;
                sq += d * d;
            }
            double rstd = 1.0 / Math.sqrt(sq / count + eps);
            for (int ch = 0; ch < cg; ch++) {
                int channel = g * cg + ch;
                float scale = (float) rstd * (w == null ? 1f : w[channel]);
                float shift = (b == null ? 0f : b[channel]) - (float) mean * scale;
                long cb = base + (long) ch * spatial;
                for (long i = 0; i < spatial; i++) {
                    os.setAtIndex(Kernels.F32, cb + i, xs.getAtIndex(Kernels.F32, xo + cb + i) * scale + shift);
                }
            }
        });
        return out;
    }

    static Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, float eps) {
        Kernels.requireFloat(x, "layerNorm input");
        Tensor xc = Kernels.f32(x);
        int d = x.dim(-1);
        long rows = xc.numel() / d;
        float[] w = optional(weight, d, "layerNorm weight");
        float[] b = optional(bias, d, "layerNorm bias");
        Tensor out = Tensor.empty(DType.F32, x.shape());
        MemorySegment xs = xc.segment(), os = out.segment();
        long xo = xc.offset();
        Parallel.forRange(rows, Math.max(1, 8192 / d), (r0, r1) -> {
            for (long r = r0; r < r1; r++) {
                long base = r * d;
                double sum = 0, sq = 0;
                for (int i = 0; i < d; i++) sum += xs.getAtIndex(Kernels.F32, xo + base + i);
                double mean = sum / d;
                for (int i = 0; i < d; i++) {
                    double v = xs.getAtIndex(Kernels.F32, xo + base + i) - mean;
                    sq += v * v;
                }
                float rstd = (float) (1.0 / Math.sqrt(sq / d + eps));
                float m = (float) mean;
                for (int i = 0; i < d; i++) {
                    float v = (xs.getAtIndex(Kernels.F32, xo + base + i) - m) * rstd;
                    if (w != null) v *= w[i];
                    if (b != null) v += b[i];
                    os.setAtIndex(Kernels.F32, base + i, v);
                }
            }
        });
        return out;
    }

    static Tensor rmsNorm(Tensor x, Tensor weight, float eps) {
        Kernels.requireFloat(x, "rmsNorm input");
        Tensor xc = Kernels.f32(x);
        int d = x.dim(-1);
        long rows = xc.numel() / d;
        float[] w = optional(weight, d, "rmsNorm weight");
        Tensor out = Tensor.empty(DType.F32, x.shape());
        MemorySegment xs = xc.segment(), os = out.segment();
        long xo = xc.offset();
        Parallel.forRange(rows, Math.max(1, 8192 / d), (r0, r1) -> {
            for (long r = r0; r < r1; r++) {
                long base = r * d;
                double sq = 0;
                for (int i = 0; i < d; i++) {
                    double v = xs.getAtIndex(Kernels.F32, xo + base + i);
                    sq += v * v;
                }
                float rstd = (float) (1.0 / Math.sqrt(sq / d + eps));
                for (int i = 0; i < d; i++) {
                    float v = xs.getAtIndex(Kernels.F32, xo + base + i) * rstd;
                    if (w != null) v *= w[i];
                    os.setAtIndex(Kernels.F32, base + i, v);
                }
            }
        });
        return out;
    }

    static Tensor softmax(Tensor x) {
        Kernels.requireFloat(x, "softmax input");
        Tensor xc = Kernels.f32(x);
        int d = x.dim(-1);
        long rows = xc.numel() / Math.max(1, d);
        Tensor out = Tensor.empty(DType.F32, x.shape());
        MemorySegment xs = xc.segment(), os = out.segment();
        long xo = xc.offset();
        Parallel.forRange(rows, Math.max(1, 8192 / Math.max(1, d)), (r0, r1) -> {
            for (long r = r0; r < r1; r++) {
                long base = r * d;
                float max = Float.NEGATIVE_INFINITY;
                for (int i = 0; i < d; i++) max = Math.max(max, xs.getAtIndex(Kernels.F32, xo + base + i));
                double sum = 0;
                for (int i = 0; i < d; i++) {
                    float e = (float) Math.exp(xs.getAtIndex(Kernels.F32, xo + base + i) - max);
                    os.setAtIndex(Kernels.F32, base + i, e);
                    sum += e;
                }
                float inv = (float) (1.0 / sum);
                for (int i = 0; i < d; i++) os.setAtIndex(Kernels.F32, base + i, os.getAtIndex(Kernels.F32, base + i) * inv);
            }
        });
        return out;
    }
}
