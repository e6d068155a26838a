package dev.zoetrope.core.cpu;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Parallel;
import dev.zoetrope.core.Tensor;

import java.util.Arrays;
import java.util.Random;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Random inputs, layouts that exercise strides, and the normwise error check shared by the op tests. */
final class TestData {
    private TestData() {
    }

    /** The bound every op must meet against its double-precision reference: ‖out − ref‖ / ‖ref‖. */
    static final double TOLERANCE = 1e-5;

    /** Uniform values in ±scale with no zeros (|v| ≥ scale/1000). */
    static float[] random(Random rnd, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            float x;
            do {
                x = (rnd.nextFloat() * 2 - 1) * scale;
            } while (Math.abs(x) < scale / 1000);
            v[i] = x;
        }
        return v;
    }

    static Tensor random(Random rnd, float scale, int... shape) {
        return Tensor.of(random(rnd, (int) Tensor.numel(shape), scale), shape);
    }

    /**
     * The same values as {@code t} held in a strided layout: stored with its dims reversed and permuted back,
     * so the innermost dimension has a large stride (a view, not contiguous).
     */
    /**
     * A read-only view of contiguous {@code t} (which must outlive it), as weights mapped from a checkpoint are:
     * kernels may cache forms derived from such weights (WeightCache).
     */
    static Tensor readOnly(Tensor t) {
        return Tensor.wrap(dev.zoetrope.core.Storage.borrowed(t.segment().asReadOnly(), "read-only test weight"),
                t.dtype(), t.shape(), t.offset() * t.dtype().byteSize());
    }

    static Tensor transposedLayout(Tensor t) {
        int r = t.rank();
        int[] rev = new int[r];
        for (int i = 0; i < r; i++) rev[i] = r - 1 - i;
        Tensor stored = t.permute(rev).contiguous();
        Tensor view = stored.permute(rev);
        assertArrayEquals(t.shape(), view.shape());
        if (r > 1 && t.numel() > 1) assertTrue(!view.isContiguous() || hasUnitDims(t));
        return view;
    }

    private static boolean hasUnitDims(Tensor t) {
        int big = 0;
        for (int d : t.shape()) if (d > 1) big++;
        return big <= 1;
    }

    /** The same values as {@code t} as a slice of a larger buffer (offset ≠ 0, padded rows). */
    static Tensor slicedLayout(Tensor t) {
        int[] shape = t.shape();
        int last = shape.length - 1;
        int[] big = shape.clone();
        big[last] += 5;
        Tensor buffer = Tensor.full(Float.NaN, big); // poison outside the window
        Tensor view = buffer.narrow(last, 3, shape[last]);
        view.copyFrom(t);
        return view;
    }

    static double[] toDouble(Tensor t) {
        return t.toDoubleArray();
    }

    static double relativeError(float[] actual, double[] expected) {
        if (actual.length != expected.length) fail("length " + actual.length + " vs " + expected.length);
        double num = 0, den = 0;
        for (int i = 0; i < actual.length; i++) {
            double d = actual[i] - expected[i];
            num += d * d;
            den += expected[i] * expected[i];
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    static void assertNear(String what, Tensor actual, int[] shape, double[] expected) {
        assertArrayEquals(shape, actual.shape(), what + ": shape " + Arrays.toString(actual.shape()));
        assertNear(what, actual.toFloatArray(), expected);
    }

    static void assertNear(String what, float[] actual, double[] expected) {
        double e = relativeError(actual, expected);
        if (!(e <= TOLERANCE)) fail(what + ": relative error " + e + " > " + TOLERANCE);
    }

    /** Row-major index → multi-index. */
    static int[] unravel(long i, int[] shape) {
        int[] idx = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            idx[d] = (int) (i % shape[d]);
            i /= shape[d];
        }
        return idx;
    }

    /** Element of a row-major array of {@code shape} at a (broadcast) index of a larger shape. */
    static double at(double[] data, int[] shape, int[] index) {
        long flat = 0;
        int lead = index.length - shape.length;
        for (int d = 0; d < shape.length; d++) {
            int i = shape[d] == 1 ? 0 : index[lead + d];
            flat = flat * shape[d] + i;
        }
        return data[(int) flat];
    }

    /** Runs {@code op} with 1 and with 2 threads and asserts the results are bit-identical. */
    static void assertThreadIndependent(String what, Supplier<Tensor> op) {
        int saved = Parallel.threads();
        try {
            Parallel.setThreads(1);
            float[] one = op.get().toFloatArray();
            Parallel.setThreads(2);
            float[] two = op.get().toFloatArray();
            for (int i = 0; i < one.length; i++) {
                if (Float.floatToRawIntBits(one[i]) != Float.floatToRawIntBits(two[i])) {
                    fail(what + ": element " + i + " differs between 1 and 2 threads: " + one[i] + " vs " + two[i]);
                }
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    static Tensor bf16(Tensor t) {
        return t.to(DType.BF16);
    }
}
