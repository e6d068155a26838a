package dev.zoetrope.core.cpu;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Ops;
import dev.zoetrope.core.Parallel;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.testing.Compare;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** conv2d and convTemporal against a direct double-precision convolution. */
class ConvTest {
    private static final double TOLERANCE = 1e-5;

    /** n, c, h, w, o, kh, kw, strideH, strideW, padH, padW, dilationH, dilationW, groups, bias (0/1). */
    private static final int[][] CASES = {
            {2, 3, 9, 11, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},     // 3×3 "same", batch 2
            {1, 4, 13, 10, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},    // stride 2 (downsampler)
            {1, 3, 12, 15, 4, 3, 3, 1, 1, 2, 2, 2, 2, 1, 0},    // dilation 2
            {2, 6, 8, 9, 4, 3, 2, 1, 2, 1, 0, 1, 1, 2, 1},      // groups 2, 3×2 kernel, asymmetric stride/padding
            {1, 8, 7, 7, 8, 3, 3, 1, 1, 1, 1, 1, 1, 8, 1},      // depthwise
            {2, 5, 6, 7, 9, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1},      // 1×1 stride 1: plain GEMM over the planes
            {1, 5, 6, 7, 3, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0},      // 1×1 with few output channels
            {1, 5, 9, 7, 3, 1, 1, 2, 2, 0, 0, 1, 1, 1, 1},      // 1×1 stride 2
            {1, 3, 5, 70, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},     // rows wider than a panel
            {1, 2, 3, 3, 3, 5, 5, 1, 1, 2, 2, 1, 1, 1, 1},      // kernel larger than the input, all padding
            {1, 3, 14, 14, 8, 14, 14, 14, 14, 0, 0, 1, 1, 1, 1}, // patch embedding (InternViT style)
            // Winograd F(4×4, 3×3) (see winogradCasesTakeTheWinogradPath):
            {2, 16, 19, 21, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},  // partial tiles at the right and bottom, batch 2
            {1, 9, 18, 17, 10, 3, 3, 1, 1, 0, 0, 1, 1, 1, 0},   // no padding
            {1, 8, 16, 16, 8, 3, 3, 1, 1, 2, 2, 1, 1, 1, 1},    // padding 2
            {1, 12, 6, 101, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}    // tile rows of several vectors
    };

    private static float[] random(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = rnd.nextFloat() * 2 - 1;
        return v;
    }

    private static double[] reference(float[] x, float[] w, float[] b, int[] s, int oh, int ow) {
        int n = s[0], c = s[1], h = s[2], wd = s[3], o = s[4], kh = s[5], kw = s[6];
        int sh = s[7], sw = s[8], ph = s[9], pw = s[10], dh = s[11], dw = s[12], groups = s[13];
        int cg = c / groups, og = o / groups;
        double[] out = new double[n * o * oh * ow];
        for (int img = 0; img < n; img++) {
            for (int oc = 0; oc < o; oc++) {
                int g = oc / og;
                for (int y = 0; y < oh; y++) {
                    for (int xo = 0; xo < ow; xo++) {
                        double sum = b == null ? 0 : b[oc];
                        for (int ci = 0; ci < cg; ci++) {
                            for (int ky = 0; ky < kh; ky++) {
                                for (int kx = 0; kx < kw; kx++) {
                                    int iy = y * sh - ph + ky * dh, ix = xo * sw - pw + kx * dw;
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                                    int ch = g * cg + ci;
                                    sum += (double) x[((img * c + ch) * h + iy) * wd + ix]
                                            * w[((oc * cg + ci) * kh + ky) * kw + kx];
                                }
                            }
                        }
                        out[((img * o + oc) * oh + y) * ow + xo] = sum;
                    }
                }
            }
        }
        return out;
    }

    @Test
    void conv2dMatchesDirectConvolution() {
        Random rnd = new Random(11);
        for (int[] s : CASES) {
            for (DType weightType : new DType[] {DType.F32, DType.F16}) {
                try (Scope scope = Scope.open()) {
                    int n = s[0], c = s[1], h = s[2], w = s[3], o = s[4], kh = s[5], kw = s[6], groups = s[13];
                    int oh = (h + 2 * s[9] - s[11] * (kh - 1) - 1) / s[7] + 1;
                    int ow = (w + 2 * s[10] - s[12] * (kw - 1) - 1) / s[8] + 1;
                    Tensor x = Tensor.of(random(rnd, n * c * h * w), n, c, h, w);
                    // read-only, as checkpoint weights are: the kernels may cache derived forms (Winograd filters)
                    Tensor weight = TestData.readOnly(Tensor.of(random(rnd, o * (c / groups) * kh * kw), o, c / groups, kh, kw)
                            .to(weightType));
                    Tensor bias = s[14] == 1 ? Tensor.of(random(rnd, o), o) : null;
                    Tensor y = Ops.conv2d(x, weight, bias, s[7], s[8], s[9], s[10], s[11], s[12], groups);
                    assertArrayEquals(new int[] {n, o, oh, ow}, y.shape(), java.util.Arrays.toString(s));
                    double[] ref = reference(x.toFloatArray(), weight.toFloatArray(),
                            bias == null ? null : bias.toFloatArray(), s, oh, ow);
                    Compare.assertRelative("conv2d " + java.util.Arrays.toString(s) + " " + weightType, y.toFloatArray(), ref, TOLERANCE);
                }
            }
        }
    }

    /** The last CASES are meant to exercise the Winograd path (with read-only, cacheable weights): make sure they do. */
    @Test
    void winogradCasesTakeTheWinogradPath() {
        int winograd = 0;
        for (int[] s : CASES) {
            int oh = (s[2] + 2 * s[9] - s[11] * (s[5] - 1) - 1) / s[7] + 1;
            int ow = (s[3] + 2 * s[10] - s[12] * (s[6] - 1) - 1) / s[8] + 1;
            if (Winograd.applies(s[1], s[4], s[5], s[6], s[7], s[8], s[9], s[10], s[11], s[12], s[13], oh, ow)) winograd++;
        }
        assertTrue(winograd == 4 || !Winograd.ENABLED, winograd + " Winograd cases");
        try (Scope scope = Scope.open()) {
            Tensor weight = TestData.readOnly(Tensor.zeros(DType.F32, 24, 16, 3, 3));
            Winograd.Transformed first = Winograd.filters(weight, 30);
            assertTrue(first != null && first == Winograd.filters(weight, 30), "read-only filters are transformed once");
            Tensor writable = Tensor.zeros(DType.F32, 24, 16, 3, 3);
            assertTrue(Winograd.filters(writable, 30) == null, "few tiles and writable weights: im2col");
            assertTrue(Winograd.filters(writable, Winograd.MIN_TILES_UNCACHED) != null, "many tiles: transformed per call");
        }
    }

    /** Writable weights and enough tiles: the filters are transformed on every call (nothing cached). */
    @Test
    void winogradWithFiltersTransformedPerCall() {
        Random rnd = new Random(15);
        int[] s = {1, 8, 64, 66, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1};
        try (Scope scope = Scope.open()) {
            Tensor x = Tensor.of(random(rnd, 8 * 64 * 66), 1, 8, 64, 66);
            Tensor weight = Tensor.of(random(rnd, 8 * 8 * 9), 8, 8, 3, 3);
            Tensor bias = Tensor.of(random(rnd, 8), 8);
            assertTrue(!Winograd.ENABLED || Winograd.filters(weight, Winograd.tiles(1, 64, 66)) != null);
            Tensor y = Ops.conv2d(x, weight, bias, 1, 1);
            Compare.assertRelative("per-call Winograd", y.toFloatArray(),
                    reference(x.toFloatArray(), weight.toFloatArray(), bias.toFloatArray(), s, 64, 66), TOLERANCE);
        }
    }

    @Test
    void conv2dReadsStridedInputViews() {
        Random rnd = new Random(12);
        try (Scope scope = Scope.open()) {
            // A channels-last buffer permuted to NCHW: non-contiguous input.
            Tensor nhwc = Tensor.of(random(rnd, 2 * 6 * 7 * 3), 2, 6, 7, 3);
            Tensor x = nhwc.permute(0, 3, 1, 2);
            Tensor weight = Tensor.of(random(rnd, 4 * 3 * 9), 4, 3, 3, 3);
            Tensor y = Ops.conv2d(x, weight, null, 1, 1);
            int[] s = {2, 3, 6, 7, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0};
            Compare.assertRelative("permuted input", y.toFloatArray(),
                    reference(x.contiguous().toFloatArray(), weight.toFloatArray(), null, s, 6, 7), TOLERANCE);
        }
    }

    @Test
    void convTemporalMatchesDirectConvolutionOverFrames() {
        Random rnd = new Random(13);
        int n = 2, c = 3, f = 5, h = 3, w = 7, o = 4;
        for (int[] kp : new int[][] {{3, 1}, {1, 0}, {3, 0}}) {
            int kt = kp[0], pad = kp[1], fo = f + 2 * pad - kt + 1;
            try (Scope scope = Scope.open()) {
                float[] xv = random(rnd, n * c * f * h * w), wv = random(rnd, o * c * kt), bv = random(rnd, o);
                Tensor y = Ops.convTemporal(Tensor.of(xv, n, c, f, h, w), Tensor.of(wv, o, c, kt, 1, 1), Tensor.of(bv, o), pad);
                assertArrayEquals(new int[] {n, o, fo, h, w}, y.shape());
                double[] ref = new double[n * o * fo * h * w];
                for (int img = 0; img < n; img++) {
                    for (int oc = 0; oc < o; oc++) {
                        for (int t = 0; t < fo; t++) {
                            for (int px = 0; px < h * w; px++) {
                                double sum = bv[oc];
                                for (int ci = 0; ci < c; ci++) {
                                    for (int dt = 0; dt < kt; dt++) {
                                        int src = t - pad + dt;
                                        if (src < 0 || src >= f) continue;
                                        sum += (double) xv[((img * c + ci) * f + src) * h * w + px] * wv[(oc * c + ci) * kt + dt];
                                    }
                                }
                                ref[((img * o + oc) * fo + t) * h * w + px] = sum;
                            }
                        }
                    }
                }
                Compare.assertRelative("convTemporal kt=" + kt + " pad=" + pad, y.toFloatArray(), ref, TOLERANCE);
            }
        }
    }

    @Test
    void resultsAreBitIdenticalForOneAndTwoThreads() {
        Random rnd = new Random(14);
        int saved = Parallel.threads();
        try (Scope scope = Scope.open()) {
            Tensor x = Tensor.of(random(rnd, 2 * 16 * 19 * 21), 2, 16, 19, 21);
            Tensor weight = TestData.readOnly(Tensor.of(random(rnd, 24 * 16 * 9), 24, 16, 3, 3));  // Winograd
            Tensor bias = Tensor.of(random(rnd, 24), 24);
            Parallel.setThreads(1);
            float[] one = Ops.conv2d(x, weight, bias, 1, 1).toFloatArray();
            Parallel.setThreads(2);
            float[] two = Ops.conv2d(x, weight, bias, 1, 1).toFloatArray();
            assertArrayEquals(one, two);
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void badShapesAndParametersAreRejected() {
        try (Scope scope = Scope.open()) {
            Tensor x = Tensor.zeros(DType.F32, 1, 4, 5, 5);
            Tensor w = Tensor.zeros(DType.F32, 2, 3, 3, 3);
            var channels = assertThrows(IllegalArgumentException.class, () -> Ops.conv2d(x, w, null, 1, 1));
            assertTrue(channels.getMessage().contains("conv2d"), channels.getMessage());
            Tensor w4 = Tensor.zeros(DType.F32, 2, 4, 3, 3);
            var stride = assertThrows(IllegalArgumentException.class, () -> Ops.conv2d(x, w4, null, 0, 1));
            assertTrue(stride.getMessage().contains("stride"), stride.getMessage());
            Tensor big = Tensor.zeros(DType.F32, 2, 4, 7, 7);
            assertThrows(IllegalArgumentException.class, () -> Ops.conv2d(x, big, null, 1, 0));
        }
    }
}
