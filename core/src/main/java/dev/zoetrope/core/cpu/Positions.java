package dev.zoetrope.core.cpu;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Parallel;
import dev.zoetrope.core.Tensor;

import java.lang.foreign.MemorySegment;

/** Rotary position embedding, NeoX (rotate_half) layout, with transformers' float32 angle maths. */
final class Positions {
    private Positions() {
    }

    static Tensor rope(Tensor x, long[] positions, double theta) {
        if (x.rank() != 4 || x.dim(2) != positions.length || x.dim(3) % 2 != 0) {
            throw Kernels.shapeError("rope", "x[B, H, L, D] with even D and L = " + positions.length + " positions", x);
        }
        int b = x.dim(0), h = x.dim(1), l = x.dim(2), d = x.dim(3), half = d / 2;
        // transformers: inv_freq = 1 / (base ** (arange(0, dim, 2).float() / dim)), freqs = pos.float() @ inv_freq,
        // emb = cat(freqs, freqs); cos/sin in float32.
        float[] cos = new float[l * half], sin = new float[l * half];
        for (int i = 0; i < half; i++) {
            float exponent = (float) (2 * i) / d;
            float invFreq = (float) (1.0 / Math.pow(theta, exponent));
            for (int p = 0; p < l; p++) {
                float angle = (float) positions[p] * invFreq;
                cos[p * half + i] = (float) Math.cos(angle);
                sin[p * half + i] = (float) Math.sin(angle);
            }
        }
        Tensor xc = Kernels.f32(x);
        Tensor out = Tensor.empty(DType.F32, x.shape());
        MemorySegment xs = xc.segment(), os = out.segment();
        long xo = xc.offset();
        Parallel.forEach(b * h, bh -> {
            for (int p = 0; p < l; p++) {
                long base = ((long) bh * l + p) * d;
                for (int i = 0; i < half; i++) {
                    float x1 = xs.getAtIndex(Kernels.F32, xo + base + i);
                    float x2 = xs.getAtIndex(Kernels.F32, xo + base + i + half);
                    float c = cos[p * half + i], s = sin[p * half + i];
                    os.setAtIndex(Kernels.F32, base + i, x1 * c - x2 * s);
                    os.setAtIndex(Kernels.F32, base + i + half, x2 * c + x1 * s);
                }
            }
        });
        return out;
    }
}
