package dev.zoetrope.core.cpu;

import dev.zoetrope.core.Backend.Interpolation;
import dev.zoetrope.core.DType;
import dev.zoetrope.core.Parallel;
import dev.zoetrope.core.Tensor;

import java.lang.foreign.MemorySegment;

/** torch.nn.functional.interpolate (nearest, bilinear, bicubic; antialias off) and avg_pool2d on NCHW. */
final class Resample {
    private Resample() {
    }

    static Tensor interpolate(Tensor x, int outH, int outW, Interpolation mode, boolean alignCorners) {
        Kernels.requireFloat(x, "interpolate input");
        if (x.rank() != 4) throw Kernels.shapeError("interpolate", "x[N, C, H, W]", x);
        Tensor xc = Kernels.f32(x);
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        Tensor out = Tensor.empty(DType.F32, n, c, outH, outW);
        MemorySegment xs = xc.segment(), os = out.segment();
        long xo = xc.offset();
        double scaleH = (double) h / outH, scaleW = (double) w / outW;
        Parallel.forEach(n * c, plane -> {
            long in = xo + (long) plane * h * w;
            long ob = (long) plane * outH * outW;
            for (int oy = 0; oy < outH; oy++) {
                for (int ox = 0; ox < outW; ox++) {
                    float v = switch (mode) {
                        case NEAREST -> xs.getAtIndex(Kernels.F32, in
                                + (long) Math.min((int) Math.floor(oy * (float) scaleH), h - 1) * w
                                + Math.min((int) Math.floor(ox * (float) scaleW), w - 1));
                        case BILINEAR -> bilinear(xs, in, h, w, source(oy, outH, h, alignCorners),
                                source(ox, outW, w, alignCorners));
                        case BICUBIC -> bicubic(xs, in, h, w, sourceCubic(oy, outH, h, alignCorners),
                                sourceCubic(ox, outW, w, alignCorners));
                    };
                    os.setAtIndex(Kernels.F32, ob + (long) oy * outW + ox, v);
                }
            }
        });
        return out;
    }

    /** Source coordinate for linear modes, clamped at 0 as torch does when not aligning corners. */
    private static float source(int o, int outSize, int inSize, boolean alignCorners) {
        if (alignCorners) return outSize > 1 ? (float) (inSize - 1) / (outSize - 1) * o : 0f;
        float scale = (float) inSize / outSize;
        float s = scale * (o + 0.5f) - 0.5f;
        return Math.max(s, 0f);
    }

    private static float sourceCubic(int o, int outSize, int inSize, boolean alignCorners) {
        if (alignCorners) return outSize > 1 ? (float) (inSize - 1) / (outSize - 1) * o : 0f;
        float scale = (float) inSize / outSize;
        return scale * (o + 0.5f) - 0.5f;
    }

    private static float at(MemorySegment s, long base, int h, int w, int y, int x) {
        y = Math.min(Math.max(y, 0), h - 1);
        x = Math.min(Math.max(x, 0), w - 1);
        return s.getAtIndex(Kernels.F32, base + (long) y * w + x);
    }

    private static float bilinear(MemorySegment s, long base, int h, int w, float sy, float sx) {
        int y0 = (int) sy, x0 = (int) sx;
        int y1 = y0 + (y0 < h - 1 ? 1 : 0), x1 = x0 + (x0 < w - 1 ? 1 : 0);
        float ly = sy - y0, lx = sx - x0;
        float hy = 1f - ly, hx = 1f - lx;
        return hy * (hx * at(s, base, h, w, y0, x0) + lx * at(s, base, h, w, y0, x1))
                + ly * (hx * at(s, base, h, w, y1, x0) + lx * at(s, base, h, w, y1, x1));
    }

    private static final float A = -0.75f;

    private static float cubic1(float x) {
        return ((A + 2) * x - (A + 3)) * x * x + 1;
    }

    private static float cubic2(float x) {
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
    }

    private static float bicubic(MemorySegment s, long base, int h, int w, float sy, float sx) {
        int iy = (int) Math.floor(sy), ix = (int) Math.floor(sx);
        float ty = sy - iy, tx = sx - ix;
        float[] wy = {cubic2(ty + 1), cubic1(ty), cubic1(1 - ty), cubic2(2 - ty)};
        float[] wx = {cubic2(tx + 1), cubic1(tx), cubic1(1 - tx), cubic2(2 - tx)};
        float acc = 0f;
        for (int j = 0; j < 4; j++) {
            float row = 0f;
            for (int i = 0; i < 4; i++) row += wx[i] * at(s, base, h, w, iy - 1 + j, ix - 1 + i);
            acc += wy[j] * row;
        }
        return acc;
    }

    static Tensor avgPool2d(Tensor x, int kernel, int stride) {
        Kernels.requireFloat(x, "avgPool2d input");
        if (x.rank() != 4) throw Kernels.shapeError("avgPool2d", "x[N, C, H, W]", x);
        Tensor xc = Kernels.f32(x);
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        int oh = (h - kernel) / stride + 1, ow = (w - kernel) / stride + 1;
        Tensor out = Tensor.empty(DType.F32, n, c, oh, ow);
        MemorySegment xs = xc.segment(), os = out.segment();
        long xo = xc.offset();
        float inv = 1f / (kernel * kernel);
        Parallel.forEach(n * c, plane -> {
            long in = xo + (long) plane * h * w;
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    float sum = 0f;
                    for (int ky = 0; ky < kernel; ky++) {
                        for (int kx = 0; kx < kernel; kx++) {
                            sum += xs.getAtIndex(Kernels.F32, in + (long) (oy * stride + ky) * w + ox * stride + kx);
                        }
                    }
                    os.setAtIndex(Kernels.F32, (long) plane * oh * ow + (long) oy * ow + ox, sum * inv);
                }
            }
        });
        return out;
    }
}
