package dev.zoetrope.core.cpu;

import org.junit.jupiter.api.Test;

import java.util.function.DoubleUnaryOperator;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The vector approximations checked directly (in both surefire runs) on dense sweeps of their whole useful
 * range, in ulps of the float result against the double-precision function.
 */
class VectorMathTest {
    interface InPlace {
        void apply(float[] a, int n);
    }

    /** Worst error in ulps of the correctly rounded result over n points spread over [lo, hi]. */
    private static double worstUlps(InPlace f, DoubleUnaryOperator exact, float lo, float hi, int n) {
        float[] x = new float[Kernels.roundUp(n, Kernels.FLOATS)];
        for (int i = 0; i < n; i++) x[i] = lo + (hi - lo) * i / (n - 1);
        float[] y = x.clone();
        f.apply(y, n);
        double worst = 0;
        for (int i = 0; i < n; i++) {
            double ref = exact.applyAsDouble(x[i]);
            double ulps = Math.abs(y[i] - ref) / Math.max(Math.ulp((float) ref), Float.MIN_VALUE);
            worst = Math.max(worst, ulps);
        }
        return worst;
    }

    private static InPlace outOfPlace(OutOfPlace f) {
        return (a, n) -> {
            float[] out = new float[a.length];
            f.apply(a, out, 0, n);
            System.arraycopy(out, 0, a, 0, a.length);
        };
    }

    interface OutOfPlace {
        void apply(float[] x, float[] out, int from, int n);
    }

    @Test
    void expWithinOneUlp() {
        double worst = worstUlps((a, n) -> VectorMath.exp(a, 0, n), Math::exp, -87f, 88.7f, 100_003);
        assertTrue(worst <= 1.0, "exp: " + worst + " ulp");
        worst = worstUlps((a, n) -> VectorMath.exp(a, 0, n), Math::exp, -103.9f, -87f, 10_007); // subnormal results
        assertTrue(worst <= 1.0, "exp subnormal: " + worst + " ulp");
    }

    /**
     * The attention exp, column-wise with a shift per column: within 1 ulp down to the smallest normal result,
     * zero below (where expSum would go subnormal), column sums in ascending row order.
     */
    @Test
    void attentionExpColumns() {
        int width = 2 * Kernels.FLOATS, stride = width + Kernels.FLOATS, rows = 20_011;
        float[] shift = new float[width], a = new float[rows * stride], x = new float[rows * stride];
        for (int l = 0; l < width; l++) shift[l] = l * 0.37f - 3f;
        for (int j = 0; j < rows; j++) {
            for (int l = 0; l < width; l++) {
                float arg = -120f + 120f * (j * width + l) / (rows * width - 1);   // −120 … 0
                a[j * stride + l] = arg + shift[l];
                x[j * stride + l] = a[j * stride + l] - shift[l];               // the argument as the kernel forms it
            }
        }
        float[] sums = new float[width];
        VectorMath.expShiftColumns(a, rows, stride, width, shift, sums);
        double worst = 0;
        for (int l = 0; l < width; l++) {
            float sum = 0f;
            for (int j = 0; j < rows; j++) {
                float got = a[j * stride + l];
                double ref = Math.exp(x[j * stride + l]);
                sum += got;
                if (ref < Float.MIN_NORMAL) {
                    assertTrue(got == 0f || Math.abs(got - ref) <= Math.ulp(Float.MIN_NORMAL), "flushed: " + got + " for " + ref);
                } else {
                    worst = Math.max(worst, Math.abs(got - ref) / Math.ulp((float) ref));
                }
            }
            assertTrue(sum == sums[l], "column sum " + l + ": " + sums[l] + " vs " + sum);
        }
        assertTrue(worst <= 1.0, "attention exp: " + worst + " ulp");
    }

    @Test
    void logWithinTwoUlps() {
        double worst = worstUlps((a, n) -> VectorMath.log(a, 0, n), Math::log, 1e-3f, 1e3f, 100_003);
        assertTrue(worst <= 2.0, "log: " + worst + " ulp");
        worst = worstUlps((a, n) -> VectorMath.log(a, 0, n), Math::log, 0.5f, 2f, 30_011);
        assertTrue(worst <= 2.0, "log near 1: " + worst + " ulp");
        worst = worstUlps((a, n) -> VectorMath.log(a, 0, n), Math::log, 1e-44f, 1e-38f, 10_007);
        assertTrue(worst <= 2.0, "log subnormal: " + worst + " ulp");
    }

    @Test
    void sigmoidTanhGelu() {
        double worst = worstUlps(outOfPlace(VectorMath::sigmoid), v -> 1 / (1 + Math.exp(-v)), -80f, 80f, 50_003);
        assertTrue(worst <= 3.0, "sigmoid: " + worst + " ulp");
        worst = worstUlps(outOfPlace(VectorMath::tanh), Math::tanh, -10f, 10f, 50_003);
        assertTrue(worst <= 3.0, "tanh: " + worst + " ulp");
        // GELU: away from its zero at x = 0 (where ulps of a tiny result say nothing) and the far tail
        worst = worstUlps(outOfPlace(VectorMath::geluErf), ReferenceMath::gelu, 0.01f, 30f, 50_003);
        assertTrue(worst <= 4.0, "gelu x > 0: " + worst + " ulp");
        worst = worstUlps(outOfPlace(VectorMath::geluErf), ReferenceMath::gelu, -3f, -0.01f, 50_003);
        assertTrue(worst <= 8.0, "gelu x < 0: " + worst + " ulp");
    }

    @Test
    void sinCosAbsoluteError() {
        for (boolean cos : new boolean[] {false, true}) {
            int n = 100_003;
            float[] x = new float[Kernels.roundUp(n, Kernels.FLOATS)];
            for (int i = 0; i < n; i++) x[i] = -1000f + 2000f * i / (n - 1);
            float[] y = x.clone();
            if (cos) VectorMath.cos(y, 0, n);
            else VectorMath.sin(y, 0, n);
            double worst = 0;
            for (int i = 0; i < n; i++) worst = Math.max(worst, Math.abs(y[i] - (cos ? Math.cos(x[i]) : Math.sin(x[i]))));
            assertTrue(worst <= 2.5e-7, (cos ? "cos" : "sin") + " absolute error " + worst);
        }
        float[] huge = new float[Kernels.roundUp(1, Kernels.FLOATS)];
        huge[0] = 1e30f;
        VectorMath.sin(huge, 0, 1);
        assertTrue(Math.abs(huge[0] - Math.sin(1e30f)) < 1e-7, "huge arguments fall back to Math");
    }
}
