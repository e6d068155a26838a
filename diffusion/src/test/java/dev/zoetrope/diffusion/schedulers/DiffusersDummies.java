package dev.zoetrope.diffusion.schedulers;

import dev.zoetrope.core.Ops;
import dev.zoetrope.core.Tensor;

/**
 * The deterministic inputs of diffusers' scheduler tests (tests/schedulers/test_schedulers.py, v0.40):
 * {@code dummy_sample_deter}, {@code dummy_noise_deter} and {@code dummy_model}.
 */
final class DiffusersDummies {
    static final int BATCH = 4, CHANNELS = 3, HEIGHT = 8, WIDTH = 8;
    static final int NUM_ELEMS = BATCH * CHANNELS * HEIGHT * WIDTH;

    private DiffusersDummies() {
    }

    /** arange(768) reshaped (C, H, W, B), divided by 768 in float32, permuted to (B, C, H, W). */
    static Tensor sampleDeter() {
        return fromCHWB(false);
    }

    /** The same with arange flipped: (767 − i)/768. */
    static Tensor noiseDeter() {
        return fromCHWB(true);
    }

    private static Tensor fromCHWB(boolean flipped) {
        float[] out = new float[NUM_ELEMS];
        for (int b = 0; b < BATCH; b++) {
            for (int c = 0; c < CHANNELS; c++) {
                for (int h = 0; h < HEIGHT; h++) {
                    for (int w = 0; w < WIDTH; w++) {
                        int source = ((c * HEIGHT + h) * WIDTH + w) * BATCH + b;
                        int value = flipped ? NUM_ELEMS - 1 - source : source;
                        out[((b * CHANNELS + c) * HEIGHT + h) * WIDTH + w] = (float) value / (float) NUM_ELEMS;
                    }
                }
            }
        }
        return Tensor.of(out, BATCH, CHANNELS, HEIGHT, WIDTH);
    }

    /** dummy_model: sample · t / (t + 1), t cast to float32. */
    static Tensor model(Tensor sample, double timestep) {
        float t = (float) timestep;
        return Ops.div(Ops.scale(sample, t), Tensor.scalar(t + 1f));
    }

    static double sumAbs(Tensor x) {
        double s = 0;
        for (float v : x.toFloatArray()) s += Math.abs(v);
        return s;
    }

    static double meanAbs(Tensor x) {
        return sumAbs(x) / x.numel();
    }
}
