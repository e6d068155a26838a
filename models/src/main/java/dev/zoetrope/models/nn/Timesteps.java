package dev.zoetrope.models.nn;

import dev.zoetrope.core.Tensor;

/**
 * diffusers {@code get_timestep_embedding} / {@code Timesteps}: sinusoidal features of (possibly fractional)
 * timesteps, in float32 with torch's order of operations:
 * {@code freq_i = exp(-ln(max_period)·i / (half − shift))}, {@code arg = t·freq·scale},
 * {@code [sin(arg), cos(arg)]}, swapped to {@code [cos, sin]} when flip_sin_to_cos, zero-padded to an odd dim.
 */
public record Timesteps(int dim, boolean flipSinToCos, float downscaleFreqShift, float scale, int maxPeriod) {
    public Timesteps(int dim, boolean flipSinToCos, float downscaleFreqShift) {
        this(dim, flipSinToCos, downscaleFreqShift, 1f, 10000);
    }

    /** timesteps[N] → [N, dim] F32 in the current scope. */
    public Tensor embed(float[] timesteps) {
        return Tensor.of(table(timesteps), timesteps.length, dim);
    }

    /** The embedding as a row-major array [N·dim]. */
    public float[] table(float[] timesteps) {
        int half = dim / 2;
        float[] freq = new float[half];
        float logPeriod = (float) -Math.log(maxPeriod);               // python float → float32 scalar
        float denom = half - downscaleFreqShift;
        for (int i = 0; i < half; i++) freq[i] = (float) Math.exp((logPeriod * (float) i) / denom);
        float[] out = new float[timesteps.length * dim];
        for (int n = 0; n < timesteps.length; n++) {
            int row = n * dim;
            for (int i = 0; i < half; i++) {
                float arg = scale * (timesteps[n] * freq[i]);
                float sin = (float) Math.sin(arg), cos = (float) Math.cos(arg);
                out[row + i] = flipSinToCos ? cos : sin;
                out[row + half + i] = flipSinToCos ? sin : cos;
            }
            // an odd dim leaves the last column at zero (torch pads (0, 1))
        }
        return out;
    }
}
