package dev.zoetrope.core.cpu;

import dev.zoetrope.core.Backend.Interpolation;
import dev.zoetrope.core.DType;
import dev.zoetrope.core.Ops;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static dev.zoetrope.core.cpu.TestData.assertNear;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** rope, interpolate and avg_pool2d against references written from the torch / transformers definitions. */
class PositionsResampleTest {
    private Scope scope;
    private final Random rnd = new Random(11);

    @BeforeEach
    void open() {
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    // ---------------------------------------------------------------- rope

    /**
     * transformers' rotary embedding: inv_freq = 1/θ^(arange(0, D, 2)/D), angle = pos·inv_freq, each step
     * in float32; q·cos + rotate_half(q)·sin with rotate_half(x) = cat(−x₂, x₁). The rotation is done in double.
     */
    static double[] ropeReference(Tensor x, long[] positions, double theta) {
        int b = x.dim(0), h = x.dim(1), l = x.dim(2), d = x.dim(3), half = d / 2;
        double[] in = x.toDoubleArray(), out = new double[in.length];
        for (int bi = 0; bi < b; bi++) {
            for (int hi = 0; hi < h; hi++) {
                for (int p = 0; p < l; p++) {
                    long pos = positions.length == l ? positions[p] : positions[bi * l + p];
                    int base = ((bi * h + hi) * l + p) * d;
                    for (int i = 0; i < d; i++) {
                        float invFreq = 1f / (float) Math.pow((float) theta, (float) (2 * (i % half)) / (float) d);
                        float angle = (float) pos * invFreq;
                        double c = (float) Math.cos(angle), s = (float) Math.sin(angle);
                        double rotated = i < half ? -in[base + i + half] : in[base + i - half];
                        out[base + i] = in[base + i] * c + rotated * s;
                    }
                }
            }
        }
        return out;
    }

    @Test
    void ropeMatchesTransformers() {
        long[] prefill = new long[37];
        for (int i = 0; i < prefill.length; i++) prefill[i] = i;
        Tensor q = TestData.random(rnd, 2f, 2, 3, 37, 64);
        assertNear("rope θ=1e6 D=64", Ops.rope(q, prefill, 1e6), q.shape(), ropeReference(q, prefill, 1e6));
        // strided: [B, L, H, D] projections viewed as [B, H, L, D]
        Tensor strided = q.permute(0, 2, 1, 3).contiguous().permute(0, 2, 1, 3);
        assertNear("rope strided", Ops.rope(strided, prefill, 1e6), q.shape(), ropeReference(q, prefill, 1e6));
        Tensor bf = q.to(DType.BF16);
        assertNear("rope bf16", Ops.rope(bf, prefill, 1e4), q.shape(), ropeReference(bf, prefill, 1e4));
        // a decode step far into the cache, and a head dim whose half is below the vector length
        Tensor k = TestData.random(rnd, 1f, 1, 2, 1, 6);
        long[] late = {4097};
        assertNear("rope decode D=6", Ops.rope(k, late, 1e4), k.shape(), ropeReference(k, late, 1e4));
        // left-padded batch: each sample its own positions ([B, L] row-major)
        Tensor x = TestData.random(rnd, 1f, 2, 2, 5, 32);
        long[] perSample = {0, 0, 0, 1, 2, 0, 1, 2, 3, 4};
        assertNear("rope per-sample positions", Ops.rope(x, perSample, 1e6), x.shape(), ropeReference(x, perSample, 1e6));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ops.rope(x, new long[3], 1e4));
        assertTrue(e.getMessage().contains("positions"), e.getMessage());
    }

    // ---------------------------------------------------------------- interpolate

    /** torch's nearest source index (upsample_nearest, float arithmetic as ATen: floor(o·(in/out)) clamped). */
    private static int nearestSource(int o, int in, int out) {
        if (out == in) return o;
        if (out == 2 * in) return o >> 1;
        float scale = (float) in / out;
        return Math.min((int) Math.floor(o * scale), in - 1);
    }

    /** Source coordinate of torch's linear modes, in double. */
    private static double source(int o, int in, int out, boolean alignCorners, boolean cubic) {
        if (alignCorners) return out > 1 ? (double) (in - 1) / (out - 1) * o : 0;
        double src = (double) in / out * (o + 0.5) - 0.5;
        return !cubic && src < 0 ? 0 : src;
    }

    private static double cubicWeight(double t) { // Keys, a = −0.75
        double a = -0.75, x = Math.abs(t);
        if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
        if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
        return 0;
    }

    static double[] interpolateReference(Tensor x, int oh, int ow, Interpolation mode, boolean alignCorners) {
        int planes = x.dim(0) * x.dim(1), h = x.dim(2), w = x.dim(3);
        double[] in = x.toDoubleArray(), out = new double[planes * oh * ow];
        for (int p = 0; p < planes; p++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    double v = 0;
                    if (mode == Interpolation.NEAREST) {
                        v = in[(p * h + nearestSource(oy, h, oh)) * w + nearestSource(ox, w, ow)];
                    } else if (mode == Interpolation.BILINEAR) {
                        double sy = source(oy, h, oh, alignCorners, false), sx = source(ox, w, ow, alignCorners, false);
                        int y0 = (int) sy, x0 = (int) sx, y1 = Math.min(y0 + 1, h - 1), x1 = Math.min(x0 + 1, w - 1);
                        double ly = sy - y0, lx = sx - x0;
                        v = (1 - ly) * ((1 - lx) * in[(p * h + y0) * w + x0] + lx * in[(p * h + y0) * w + x1])
                                + ly * ((1 - lx) * in[(p * h + y1) * w + x0] + lx * in[(p * h + y1) * w + x1]);
                    } else {
                        double sy = source(oy, h, oh, alignCorners, true), sx = source(ox, w, ow, alignCorners, true);
                        int fy = (int) Math.floor(sy), fx = (int) Math.floor(sx);
                        for (int j = -1; j <= 2; j++) {
                            for (int i = -1; i <= 2; i++) {
                                int yy = Math.min(Math.max(fy + j, 0), h - 1), xx = Math.min(Math.max(fx + i, 0), w - 1);
                                v += cubicWeight(sy - (fy + j)) * cubicWeight(sx - (fx + i)) * in[(p * h + yy) * w + xx];
                            }
                        }
                    }
                    out[(p * oh + oy) * ow + ox] = v;
                }
            }
        }
        return out;
    }

    @Test
    void interpolateMatchesTorchSemantics() {
        Tensor x = TestData.random(rnd, 2f, 2, 3, 7, 10);
        int[][] sizes = {{14, 20}, {5, 6}, {7, 10}, {16, 3}, {1, 1}, {29, 41}};
        for (Interpolation mode : Interpolation.values()) {
            for (boolean align : mode == Interpolation.NEAREST ? new boolean[] {false} : new boolean[] {false, true}) {
                for (int[] size : sizes) {
                    String what = mode + " align=" + align + " → " + size[0] + "×" + size[1];
                    double[] ref = interpolateReference(x, size[0], size[1], mode, align);
                    int[] shape = {2, 3, size[0], size[1]};
                    assertNear(what, Ops.interpolate(x, size[0], size[1], mode, align), shape, ref);
                    assertNear(what + " strided", Ops.interpolate(TestData.transposedLayout(x), size[0], size[1], mode, align), shape, ref);
                }
            }
        }
        // 2× nearest on a width that fills whole vectors (the duplicated-lane path) and one that does not
        for (int w : new int[] {32, 13}) {
            Tensor y = TestData.random(rnd, 1f, 1, 2, 3, w);
            assertNear("upsampleNearest w=" + w, Ops.upsampleNearest(y, 2), new int[] {1, 2, 6, 2 * w},
                    interpolateReference(y, 6, 2 * w, Interpolation.NEAREST, false));
        }
    }

    @Test
    void interpolateKnownValues() {
        // torch.nn.functional.interpolate(torch.tensor([[[[1., 2., 3., 4.]]]]), size=(1, 8), mode=...)
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4}, 1, 1, 1, 4);
        assertArrayEquals(new float[] {1f, 1.25f, 1.75f, 2.25f, 2.75f, 3.25f, 3.75f, 4f},
                Ops.interpolate(x, 1, 8, Interpolation.BILINEAR, false).toFloatArray(), 1e-6f);
        float[] aligned = Ops.interpolate(x, 1, 8, Interpolation.BILINEAR, true).toFloatArray();
        for (int i = 0; i < 8; i++) assertEquals(1 + 3.0 * i / 7, aligned[i], 1e-6);
        assertArrayEquals(new float[] {1, 2, 3}, Ops.interpolate(x, 1, 3, Interpolation.NEAREST, false).toFloatArray());
        assertArrayEquals(new float[] {1, 1, 2, 2, 3, 3, 4, 4}, Ops.interpolate(x, 1, 8, Interpolation.NEAREST, false).toFloatArray());
        // bicubic, a = −0.75, edges replicated: overshoots below 1 and above 4 like torch
        assertArrayEquals(new float[] {0.89453125f, 1.19140625f, 1.66796875f, 2.296875f, 2.703125f, 3.33203125f, 3.80859375f, 4.10546875f},
                Ops.interpolate(x, 1, 8, Interpolation.BICUBIC, false).toFloatArray(), 1e-6f);
        assertThrows(IllegalArgumentException.class, () -> Ops.interpolate(x, 1, 8, Interpolation.NEAREST, true));
        assertThrows(IllegalArgumentException.class, () -> Ops.interpolate(x, 0, 8, Interpolation.BILINEAR, false));
    }

    @Test
    void avgPool2d() {
        Tensor x = TestData.random(rnd, 2f, 2, 3, 9, 21);
        for (int[] ks : new int[][] {{2, 2}, {3, 2}, {3, 3}, {1, 1}, {4, 3}}) {
            int k = ks[0], s = ks[1];
            int oh = (9 - k) / s + 1, ow = (21 - k) / s + 1;
            double[] in = x.toDoubleArray(), ref = new double[6 * oh * ow];
            for (int p = 0; p < 6; p++) {
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        double sum = 0;
                        for (int dy = 0; dy < k; dy++) {
                            for (int dx = 0; dx < k; dx++) sum += in[(p * 9 + oy * s + dy) * 21 + ox * s + dx];
                        }
                        ref[(p * oh + oy) * ow + ox] = sum / (k * k);
                    }
                }
            }
            int[] shape = {2, 3, oh, ow};
            assertNear("avgPool2d k=" + k + " s=" + s, Ops.avgPool2d(x, k, s), shape, ref);
            assertNear("avgPool2d strided k=" + k, Ops.avgPool2d(TestData.slicedLayout(x), k, s), shape, ref);
        }
        assertThrows(IllegalArgumentException.class, () -> Ops.avgPool2d(x, 10, 1));
    }
}
