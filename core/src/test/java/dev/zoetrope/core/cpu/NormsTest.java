package dev.zoetrope.core.cpu;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Ops;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static dev.zoetrope.core.cpu.TestData.assertNear;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GroupNorm, LayerNorm, RMSNorm, softmax and the last-dim reductions against double-precision references. */
class NormsTest {
    private Scope scope;
    private final Random rnd = new Random(3);

    @BeforeEach
    void open() {
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    static double[] groupNormReference(double[] x, int[] shape, int groups, double[] w, double[] b, double eps) {
        int n = shape[0], c = shape[1];
        int spatial = x.length / (n * c), cg = c / groups;
        double[] out = new double[x.length];
        for (int s = 0; s < n; s++) {
            for (int g = 0; g < groups; g++) {
                int base = (s * c + g * cg) * spatial, count = cg * spatial;
                double mean = 0, var = 0;
                for (int i = 0; i < count; i++) mean += x[base + i];
                mean /= count;
                for (int i = 0; i < count; i++) var += (x[base + i] - mean) * (x[base + i] - mean);
                var /= count;
                for (int i = 0; i < count; i++) {
                    int ch = g * cg + i / spatial;
                    double y = (x[base + i] - mean) / Math.sqrt(var + eps);
                    out[base + i] = y * (w == null ? 1 : w[ch]) + (b == null ? 0 : b[ch]);
                }
            }
        }
        return out;
    }

    @Test
    void groupNorm() {
        int[][] shapes = {{2, 6, 5, 7}, {1, 32, 9, 9}, {3, 4, 1}, {2, 8, 3, 4, 5}}; // 5-D: video [N, C, F, H, W]
        int[] groupCounts = {3, 8, 2, 4};
        for (int k = 0; k < shapes.length; k++) {
            int[] shape = shapes[k];
            int c = shape[1], groups = groupCounts[k];
            // a large common offset checks that the variance is not computed as E[x²] − E[x]²
            Tensor x = Ops.addScalar(TestData.random(rnd, 2f, shape), 100f);
            Tensor w = TestData.random(rnd, 1f, c), b = TestData.random(rnd, 1f, c);
            double[] ref = groupNormReference(x.toDoubleArray(), shape, groups, w.toDoubleArray(), b.toDoubleArray(), 1e-5);
            assertNear("groupNorm " + java.util.Arrays.toString(shape), Ops.groupNorm(x, groups, w, b, 1e-5f), shape, ref);
            assertNear("groupNorm strided", Ops.groupNorm(TestData.transposedLayout(x), groups, w, b, 1e-5f), shape, ref);
            ref = groupNormReference(x.toDoubleArray(), shape, groups, null, null, 1e-6);
            assertNear("groupNorm no affine", Ops.groupNorm(x, groups, null, null, 1e-6f), shape, ref);
            Tensor wh = w.to(DType.F16);
            ref = groupNormReference(x.toDoubleArray(), shape, groups, wh.toDoubleArray(), b.toDoubleArray(), 1e-5);
            assertNear("groupNorm f16 weight", Ops.groupNorm(x, groups, wh, b, 1e-5f), shape, ref);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Ops.groupNorm(Tensor.zeros(DType.F32, 1, 6, 2), 4, null, null, 1e-5f));
        assertTrue(e.getMessage().contains("groups=4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Ops.groupNorm(Tensor.zeros(DType.F32, 1, 6, 2), 3, Tensor.zeros(DType.F32, 5), null, 1e-5f));
        assertTrue(e.getMessage().contains("weight"), e.getMessage());
    }

    static double[] layerNormReference(double[] x, int d, double[] w, double[] b, double eps, boolean rms) {
        double[] out = new double[x.length];
        for (int r = 0; r < x.length / d; r++) {
            double mean = 0, var = 0;
            if (!rms) {
                for (int i = 0; i < d; i++) mean += x[r * d + i];
                mean /= d;
            }
            for (int i = 0; i < d; i++) var += (x[r * d + i] - mean) * (x[r * d + i] - mean);
            var /= d;
            for (int i = 0; i < d; i++) {
                double y = (x[r * d + i] - mean) / Math.sqrt(var + eps);
                out[r * d + i] = y * (w == null ? 1 : w[i]) + (b == null ? 0 : b[i]);
            }
        }
        return out;
    }

    @Test
    void layerNormAndRmsNorm() {
        for (int[] shape : new int[][] {{3, 5, 37}, {1, 1024}, {7, 1}, {2, 3, 320}}) {
            int d = shape[shape.length - 1];
            Tensor x = Ops.addScalar(TestData.random(rnd, 3f, shape), 20f);
            Tensor w = TestData.random(rnd, 1f, d), b = TestData.random(rnd, 1f, d);
            String what = java.util.Arrays.toString(shape);
            double[] ref = layerNormReference(x.toDoubleArray(), d, w.toDoubleArray(), b.toDoubleArray(), 1e-5, false);
            assertNear("layerNorm " + what, Ops.layerNorm(x, w, b, 1e-5f), shape, ref);
            assertNear("layerNorm strided " + what, Ops.layerNorm(TestData.slicedLayout(x), w, b, 1e-5f), shape, ref);
            Tensor wb = w.to(DType.BF16), bb = b.to(DType.BF16);
            ref = layerNormReference(x.toDoubleArray(), d, wb.toDoubleArray(), bb.toDoubleArray(), 1e-6, false);
            assertNear("layerNorm bf16 affine " + what, Ops.layerNorm(x, wb, bb, 1e-6f), shape, ref);
            ref = layerNormReference(x.toDoubleArray(), d, null, null, 1e-5, false);
            assertNear("layerNorm plain " + what, Ops.layerNorm(TestData.transposedLayout(x), null, null, 1e-5f), shape, ref);
            ref = layerNormReference(x.toDoubleArray(), d, w.toDoubleArray(), null, 1e-6, true);
            assertNear("rmsNorm " + what, Ops.rmsNorm(x, w, 1e-6f), shape, ref);
            assertNear("rmsNorm strided " + what, Ops.rmsNorm(TestData.transposedLayout(x), w, 1e-6f), shape, ref);
            ref = layerNormReference(x.toDoubleArray(), d, null, null, 1e-6, true);
            assertNear("rmsNorm plain " + what, Ops.rmsNorm(x, null, 1e-6f), shape, ref);
        }
    }

    @Test
    void softmaxOverTheLastDimension() {
        for (int[] shape : new int[][] {{4, 77}, {2, 3, 1}, {1, 3000}, {5, 6, 8}}) {
            for (float scale : new float[] {1f, 30f}) {
                Tensor x = TestData.random(rnd, scale, shape);
                double[] in = x.toDoubleArray(), ref = new double[in.length];
                int d = shape[shape.length - 1];
                for (int r = 0; r < in.length / d; r++) {
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (int i = 0; i < d; i++) max = Math.max(max, in[r * d + i]);
                    for (int i = 0; i < d; i++) sum += Math.exp(in[r * d + i] - max);
                    for (int i = 0; i < d; i++) ref[r * d + i] = Math.exp(in[r * d + i] - max) / sum;
                }
                String what = "softmax " + java.util.Arrays.toString(shape) + " scale " + scale;
                assertNear(what, Ops.softmax(x), shape, ref);
                assertNear(what + " strided", Ops.softmax(TestData.transposedLayout(x)), shape, ref);
            }
        }
        float[] masked = Ops.softmax(Tensor.of(new float[] {0f, Float.NEGATIVE_INFINITY, 0f, -3.4e38f}, 4)).toFloatArray();
        assertEquals(0.5f, masked[0]);
        assertEquals(0f, masked[1]);
        assertEquals(0f, masked[3]);
        assertTrue(Float.isNaN(Ops.softmax(Tensor.full(Float.NEGATIVE_INFINITY, 9)).toFloatArray()[0]), "all −∞ gives NaN as torch");
    }

    @Test
    void sumAndMeanOverTheLastDimension() {
        for (int[] shape : new int[][] {{3, 101}, {2, 2, 1}, {1, 4000}}) {
            Tensor x = TestData.random(rnd, 2f, shape);
            double[] in = x.toDoubleArray();
            int d = shape[shape.length - 1], rows = in.length / d;
            double[] sum = new double[rows], mean = new double[rows];
            for (int r = 0; r < rows; r++) {
                for (int i = 0; i < d; i++) sum[r] += in[r * d + i];
                mean[r] = sum[r] / d;
            }
            int[] outShape = java.util.Arrays.copyOf(shape, shape.length - 1);
            assertNear("sumLast", Ops.sumLast(TestData.transposedLayout(x)), outShape, sum);
            assertNear("meanLast", Ops.meanLast(x), outShape, mean);
        }
    }
}
