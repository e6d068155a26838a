package dev.zoetrope.diffusion.schedulers;

import dev.zoetrope.core.Tensor;

import java.util.Arrays;

/**
 * Dynamic thresholding of the predicted x₀ (Imagen, Saharia et al. 2022) as diffusers' {@code
 * _threshold_sample}: per batch item, s = the {@code ratio}-quantile of |x₀| (torch.quantile, linear
 * interpolation, in float32) clamped to [1, sample_max_value]; x₀ ← clamp(x₀, −s, s) / s. Runs on the host: it
 * needs a sort, and it is rare.
 */
final class Thresholding {
    private Thresholding() {
    }

    static Tensor apply(Tensor sample, double ratio, double sampleMaxValue) {
        int[] shape = sample.shape();
        if (shape.length < 2) throw new IllegalArgumentException("thresholding needs a [batch, channels, ...] sample");
        float[] x = sample.toFloatArray();
        int batch = shape[0];
        int row = batch == 0 ? 0 : x.length / batch;
        float q = (float) ratio;
        for (int b = 0; b < batch; b++) {
            float[] sorted = new float[row];
            for (int i = 0; i < row; i++) sorted[i] = Math.abs(x[b * row + i]);
            Arrays.sort(sorted);
            float s = quantileOfSorted(sorted, q);
            s = Math.min(Math.max(s, 1f), (float) sampleMaxValue); // torch.clamp(min=1, max=sample_max_value)
            for (int i = 0; i < row; i++) {
                float v = x[b * row + i];
                x[b * row + i] = Math.min(Math.max(v, -s), s) / s;
            }
        }
        return Tensor.of(x, shape);
    }

    /** torch.quantile (linear) of an ascending row: rank = q·(n−1) in float32, then torch.lerp. */
    static float quantileOfSorted(float[] sorted, float q) {
        int last = sorted.length - 1;
        if (Float.isNaN(sorted[last])) return Float.NaN;
        float rank = q * (float) last;
        int below = (int) rank;
        int above = (int) Math.ceil(rank);
        float weight = rank - below;
        float lo = sorted[below], hi = sorted[above];
        return weight < 0.5f ? lo + weight * (hi - lo) : hi - (hi - lo) * (1f - weight);
    }
}
