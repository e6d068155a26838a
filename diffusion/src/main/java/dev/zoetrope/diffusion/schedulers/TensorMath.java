package dev.zoetrope.diffusion.schedulers;

import dev.zoetrope.core.Ops;
import dev.zoetrope.core.Tensor;

import java.util.Arrays;

/**
 * Tensor-by-scalar arithmetic in torch's rounding: a product with a float32 0-dim tensor rounds once, a
 * division is a true float division (torch's CPU kernel does not turn float32 division into multiplication
 * by a reciprocal).
 */
final class TensorMath {
    private TensorMath() {
    }

    /** x · s */
    static Tensor mul(Tensor x, float s) {
        return Ops.scale(x, s);
    }

    /** x / s */
    static Tensor div(Tensor x, float s) {
        return Ops.div(x, Tensor.scalar(s));
    }

    /** One value per batch item, shaped [B, 1, …, 1] to broadcast against a tensor of the given rank. */
    static Tensor perBatch(float[] values, int rank) {
        int[] shape = new int[Math.max(rank, 1)];
        Arrays.fill(shape, 1);
        shape[0] = values.length;
        return Tensor.of(values, shape);
    }

    /** {@code a·x + b·y} with one (a, b) pair per batch item (or a single pair for all). */
    static Tensor combine(float[] a, Tensor x, float[] b, Tensor y) {
        if (!Arrays.equals(x.shape(), y.shape())) {
            throw new IllegalArgumentException("sample shape " + Arrays.toString(x.shape()) + " and noise shape "
                    + Arrays.toString(y.shape()) + " differ");
        }
        if (a.length == 1) return Ops.axpby(a[0], x, b[0], y);
        if (x.rank() == 0 || a.length != x.dim(0)) {
            throw new IllegalArgumentException(a.length + " timesteps for a batch of "
                    + (x.rank() == 0 ? "a scalar" : x.dim(0) + " samples") + ": give one timestep or one per sample");
        }
        return Ops.add(Ops.mul(perBatch(a, x.rank()), x), Ops.mul(perBatch(b, y.rank()), y));
    }

    /** The timestep as an index into the training tables; fails for non-integral or out-of-range values. */
    static int trainIndex(double timestep, int numTrainTimesteps) {
        if (timestep != Math.rint(timestep) || timestep < 0 || timestep >= numTrainTimesteps) {
            throw new IllegalArgumentException("timestep " + timestep + " is not an integer in [0, "
                    + numTrainTimesteps + ")");
        }
        return (int) timestep;
    }
}
