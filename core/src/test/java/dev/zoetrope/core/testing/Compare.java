package dev.zoetrope.core.testing;

import dev.zoetrope.core.Tensor;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Tolerance checks used by op and parity tests. */
public final class Compare {
    private Compare() {
    }

    /** ‖actual − expected‖ / ‖expected‖ (0 when both are zero). */
    public static double relativeError(float[] actual, double[] expected) {
        if (actual.length != expected.length) throw new AssertionError("length " + actual.length + " vs " + expected.length);
        double num = 0, den = 0;
        for (int i = 0; i < actual.length; i++) {
            double d = actual[i] - expected[i];
            num += d * d;
            den += expected[i] * expected[i];
        }
        if (den == 0) return Math.sqrt(num);
        return Math.sqrt(num / den);
    }

    public static double maxAbsError(float[] actual, float[] expected) {
        double m = 0;
        for (int i = 0; i < actual.length; i++) {
            double d = Math.abs((double) actual[i] - expected[i]);
            if (Double.isNaN(d)) return Double.NaN;
            m = Math.max(m, d);
        }
        return m;
    }

    public static void assertRelative(String what, float[] actual, double[] expected, double tolerance) {
        double e = relativeError(actual, expected);
        if (!(e <= tolerance)) fail(what + ": relative error " + e + " > " + tolerance);
    }

    public static void assertClose(String what, Tensor actual, Tensor expected, double atol, double rtol) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape " + Arrays.toString(actual.shape())
                + " vs expected " + Arrays.toString(expected.shape()));
        assertClose(what, actual.toFloatArray(), expected.toFloatArray(), atol, rtol);
    }

    /** Every element within atol + rtol·|expected|; the message names the worst element. */
    public static void assertClose(String what, float[] actual, float[] expected, double atol, double rtol) {
        if (actual.length != expected.length) fail(what + ": " + actual.length + " values, expected " + expected.length);
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < actual.length; i++) {
            double diff = Math.abs((double) actual[i] - expected[i]);
            double allowed = atol + rtol * Math.abs(expected[i]);
            if (Double.isNaN(diff) || diff > allowed) {
                double excess = Double.isNaN(diff) ? Double.POSITIVE_INFINITY : diff - allowed;
                if (worst < 0 || excess > worstExcess) {
                    worst = i;
                    worstExcess = excess;
                }
            }
        }
        if (worst >= 0) {
            fail(what + ": element " + worst + " is " + actual[worst] + ", expected " + expected[worst]
                    + " (max abs error " + maxAbsError(actual, expected) + ", atol " + atol + ", rtol " + rtol + ")");
        }
    }
}
