package dev.zoetrope.core.cpu;

import dev.zoetrope.core.Backend.Interpolation;
import dev.zoetrope.core.DType;
import dev.zoetrope.core.Parallel;
import dev.zoetrope.core.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;

import java.lang.foreign.MemorySegment;

import static dev.zoetrope.core.cpu.Kernels.F;
import static dev.zoetrope.core.cpu.Kernels.F32;
import static dev.zoetrope.core.cpu.Kernels.FLOATS;
import static dev.zoetrope.core.cpu.Kernels.ORDER;

/**
 * torch.nn.functional.interpolate (nearest, bilinear, bicubic with a = −0.75; antialias off) and avg_pool2d
 * on NCHW, one task per (n, c) plane. Linear modes are separable exactly as torch's CPU kernel nests them:
 * each needed input row is first interpolated along W (cached in a small ring, since consecutive output
 * rows share input rows), then output rows combine those rows along H.
 */
final class Resample {
    private Resample() {
    }

    static Tensor interpolate(Tensor x, int outH, int outW, Interpolation mode, boolean alignCorners) {
        Kernels.requireFloat(x, "interpolate input");
        if (x.rank() != 4) throw Kernels.shapeError("interpolate", "x[N, C, H, W]", x);
        if (outH <= 0 || outW <= 0 || x.dim(2) == 0 || x.dim(3) == 0) {
            throw Kernels.shapeError("interpolate", "non-empty input and output sizes (requested " + outH + "×" + outW + ")", x);
        }
        if (mode == Interpolation.NEAREST && alignCorners) {
            throw new IllegalArgumentException("interpolate: align_corners applies to bilinear and bicubic only, as in torch");
        }
        Tensor xc = Kernels.f32(x);
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        Tensor out = Tensor.empty(DType.F32, n, c, outH, outW);
        if (out.numel() == 0) return out;
        MemorySegment xs = xc.segment(), os = out.segment();
        long xo = xc.offset();
        switch (mode) {
            case NEAREST -> {
                int[] sy = nearestIndices(outH, h), sx = nearestIndices(outW, w);
                boolean doubleW = outW == 2 * w;
                Parallel.forEach(n * c, plane -> nearestPlane(xs, xo + (long) plane * h * w, w, os,
                        (long) plane * outH * outW, outH, outW, sy, sx, doubleW));
            }
            case BILINEAR, BICUBIC -> {
                Taps ty = Taps.of(mode, h, outH, alignCorners), tx = Taps.of(mode, w, outW, alignCorners);
                Parallel.forEach(n * c, plane -> linearPlane(xs, xo + (long) plane * h * w, w, os,
                        (long) plane * outH * outW, outH, outW, ty, tx));
            }
        }
        Kernels.release(xc, x);
        return out;
    }

    // ---------------------------------------------------------------- nearest

    /** torch's nearest_idx: identity, halving for exact 2×, else min(floor(o·(in/out)), in − 1) in float. */
    static int[] nearestIndices(int out, int in) {
        int[] idx = new int[out];
        float scale = (float) in / out;
        for (int o = 0; o < out; o++) {
            if (out == in) idx[o] = o;
            else if (out == 2 * in) idx[o] = o >> 1;
            else idx[o] = Math.min((int) Math.floor(o * scale), in - 1);
        }
        return idx;
    }

    private static void nearestPlane(MemorySegment xs, long in, int w, MemorySegment os, long ob, int outH, int outW,
                                     int[] sy, int[] sx, boolean doubleW) {
        for (int oy = 0; oy < outH; oy++) {
            long orow = ob + (long) oy * outW;
            if (oy > 0 && sy[oy] == sy[oy - 1]) { // same source row as the previous output row
                MemorySegment.copy(os, (orow - outW) * 4, os, orow * 4, outW * 4L);
                continue;
            }
            long irow = in + (long) sy[oy] * w;
            int ox = 0;
            if (doubleW && Kernels.VECTOR) {
                // each input vector becomes two output vectors with every lane duplicated
                for (; ox + 2 * FLOATS <= outW; ox += 2 * FLOATS) {
                    FloatVector v = FloatVector.fromMemorySegment(F, xs, (irow + ox / 2) * 4, ORDER);
                    v.rearrange(DUP_LO).intoMemorySegment(os, (orow + ox) * 4, ORDER);
                    v.rearrange(DUP_HI).intoMemorySegment(os, (orow + ox + FLOATS) * 4, ORDER);
                }
            }
            for (; ox < outW; ox++) os.setAtIndex(F32, orow + ox, xs.getAtIndex(F32, irow + sx[ox]));
        }
    }

    private static final VectorShuffle<Float> DUP_LO = VectorShuffle.fromOp(F, i -> i / 2);
    private static final VectorShuffle<Float> DUP_HI = VectorShuffle.fromOp(F, i -> (i + F.length()) / 2);

    // ---------------------------------------------------------------- bilinear / bicubic

    /** Per output index: the input indices (already clamped) and weights of its taps. */
    record Taps(int count, int[] index, float[] weight) {
        static Taps of(Interpolation mode, int in, int out, boolean alignCorners) {
            float scale = alignCorners ? (out > 1 ? (float) (in - 1) / (out - 1) : 0f) : (float) in / out;
            boolean cubic = mode == Interpolation.BICUBIC;
            int count = cubic ? 4 : 2;
            int[] index = new int[out * count];
            float[] weight = new float[out * count];
            for (int o = 0; o < out; o++) {
                float src = alignCorners ? scale * o : (float) (scale * (o + 0.5) - 0.5);
                if (cubic) {
                    int i0 = (int) Math.floor(src);
                    float t = src - i0;
                    float[] wts = {cubic2(t + 1f), cubic1(t), cubic1(1f - t), cubic2(2f - t)};
                    for (int j = 0; j < 4; j++) {
                        index[o * 4 + j] = Math.min(Math.max(i0 - 1 + j, 0), in - 1);
                        weight[o * 4 + j] = wts[j];
                    }
                } else {
                    if (src < 0f) src = 0f;
                    int i0 = Math.min((int) src, in - 1);
                    float lambda = Math.min(Math.max(src - i0, 0f), 1f);
                    index[o * 2] = i0;
                    index[o * 2 + 1] = i0 + (i0 < in - 1 ? 1 : 0);
                    weight[o * 2] = 1f - lambda;
                    weight[o * 2 + 1] = lambda;
                }
            }
            return new Taps(count, index, weight);
        }
    }

    private static final float A = -0.75f;

    /** Keys' cubic convolution kernel for |x| ≤ 1. */
    private static float cubic1(float x) {
        return ((A + 2) * x - (A + 3)) * x * x + 1;
    }

    /** ... and for 1 < |x| < 2. */
    private static float cubic2(float x) {
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
    }

    private static void linearPlane(MemorySegment xs, long in, int w, MemorySegment os, long ob, int outH, int outW,
                                    Taps ty, Taps tx) {
        int taps = ty.count;
        float[][] ring = new float[taps][outW];
        int[] ringRow = new int[taps];
        java.util.Arrays.fill(ringRow, -1);
        float[][] rows = new float[taps][];
        float[] line = new float[outW];
        for (int oy = 0; oy < outH; oy++) {
            for (int j = 0; j < taps; j++) {
                int y = ty.index[oy * taps + j];
                int slot = y % taps;
                if (ringRow[slot] != y) {
                    horizontal(xs, in + (long) y * w, tx, outW, ring[slot]);
                    ringRow[slot] = y;
                }
                rows[j] = ring[slot];
            }
            vertical(rows, ty.weight, oy * taps, taps, outW, line);
            MemorySegment.copy(line, 0, os, F32, (ob + (long) oy * outW) * 4, outW);
        }
    }

    /** dst[ox] = Σ_j x[index_j]·w_j, summed left to right like torch. */
    private static void horizontal(MemorySegment xs, long row, Taps tx, int outW, float[] dst) {
        int taps = tx.count;
        for (int ox = 0; ox < outW; ox++) {
            int t = ox * taps;
            float acc = xs.getAtIndex(F32, row + tx.index[t]) * tx.weight[t];
            for (int j = 1; j < taps; j++) acc += xs.getAtIndex(F32, row + tx.index[t + j]) * tx.weight[t + j];
            dst[ox] = acc;
        }
    }

    /** line = Σ_j rows[j]·wy[at + j] (products rounded before each sum, no FMA, like the scalar path). */
    private static void vertical(float[][] rows, float[] wy, int at, int taps, int outW, float[] line) {
        int ox = 0;
        if (Kernels.VECTOR) {
            int bound = outW - outW % FLOATS;
            for (; ox < bound; ox += FLOATS) {
                FloatVector acc = FloatVector.fromArray(F, rows[0], ox).mul(wy[at]);
                for (int j = 1; j < taps; j++) acc = acc.add(FloatVector.fromArray(F, rows[j], ox).mul(wy[at + j]));
                acc.intoArray(line, ox);
            }
        }
        for (; ox < outW; ox++) {
            float acc = rows[0][ox] * wy[at];
            for (int j = 1; j < taps; j++) acc += rows[j][ox] * wy[at + j];
            line[ox] = acc;
        }
    }

    // ---------------------------------------------------------------- avg pool

    /** avg_pool2d without padding (floor mode): window sums in row-major order, divided by kernel². */
    static Tensor avgPool2d(Tensor x, int kernel, int stride) {
        Kernels.requireFloat(x, "avgPool2d input");
        if (x.rank() != 4) throw Kernels.shapeError("avgPool2d", "x[N, C, H, W]", x);
        if (kernel < 1 || stride < 1 || x.dim(2) < kernel || x.dim(3) < kernel) {
            throw Kernels.shapeError("avgPool2d",
                    "kernel " + kernel + " ≥ 1 no larger than H and W, stride " + stride + " ≥ 1", x);
        }
        Tensor xc = Kernels.f32(x);
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        int oh = (h - kernel) / stride + 1, ow = (w - kernel) / stride + 1;
        Tensor out = Tensor.empty(DType.F32, n, c, oh, ow);
        if (out.numel() == 0) return out;
        MemorySegment xs = xc.segment(), os = out.segment();
        long xo = xc.offset();
        float divisor = kernel * kernel;
        int[] lanes = new int[FLOATS];
        for (int i = 0; i < FLOATS; i++) lanes[i] = i * stride;
        Parallel.forEach(n * c, plane -> {
            long in = xo + (long) plane * h * w;
            long ob = (long) plane * oh * ow;
            float[][] rows = new float[kernel][w];
            float[] line = new float[ow];
            for (int oy = 0; oy < oh; oy++) {
                for (int ky = 0; ky < kernel; ky++) {
                    MemorySegment.copy(xs, F32, (in + (long) (oy * stride + ky) * w) * 4, rows[ky], 0, w);
                }
                int ox = 0;
                if (Kernels.VECTOR) {
                    // lanes are FLOATS consecutive outputs; gathers at stride `stride` keep torch's summation order
                    for (; ox + FLOATS <= ow; ox += FLOATS) {
                        FloatVector acc = null;
                        for (int ky = 0; ky < kernel; ky++) {
                            for (int kx = 0; kx < kernel; kx++) {
                                FloatVector v = FloatVector.fromArray(F, rows[ky], ox * stride + kx, lanes, 0);
                                acc = acc == null ? v : acc.add(v);
                            }
                        }
                        acc.div(divisor).intoArray(line, ox);
                    }
                }
                for (; ox < ow; ox++) {
                    float sum = 0f;
                    for (int ky = 0; ky < kernel; ky++) {
                        for (int kx = 0; kx < kernel; kx++) sum += rows[ky][ox * stride + kx];
                    }
                    line[ox] = sum / divisor;
                }
                MemorySegment.copy(line, 0, os, F32, (ob + (long) oy * ow) * 4, ow);
            }
        });
        Kernels.release(xc, x);
        return out;
    }
}
