package dev.zoetrope.core.cpu;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Parallel;
import dev.zoetrope.core.Tensor;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;

import static dev.zoetrope.core.cpu.Kernels.F;
import static dev.zoetrope.core.cpu.Kernels.F32;
import static dev.zoetrope.core.cpu.Kernels.FLOATS;
import static dev.zoetrope.core.cpu.Kernels.ORDER;

/** Rotary position embedding, NeoX (rotate_half) layout, with transformers' float32 angle maths. */
final class Positions {
    private Positions() {
    }

    private static final int ROW_GRAIN = 1 << 14;

    /**
     * x[B, H, L, D] (any float dtype and strides) rotated by the given positions: L of them shared by the
     * batch, or B·L (row-major [B, L]) when each sample has its own (left-padded batches).
     */
    static Tensor rope(Tensor x, long[] positions, double theta) {
        Kernels.requireFloat(x, "rope input");
        if (x.rank() != 4 || x.dim(3) % 2 != 0
                || (positions.length != x.dim(2) && positions.length != (long) x.dim(0) * x.dim(2))) {
            throw Kernels.shapeError("rope", "x[B, H, L, D] with even D and L or B·L positions (got "
                    + positions.length + ")", x);
        }
        int b = x.dim(0), h = x.dim(1), l = x.dim(2), d = x.dim(3), half = d / 2;
        int tables = positions.length == l ? 1 : b;
        // transformers: inv_freq = 1.0 / (base ** (arange(0, dim, 2).float() / dim)), angle = pos.float() · inv_freq,
        // emb = cat(freqs, freqs); every step rounded to float32.
        float base = (float) theta;
        float[] invFreq = new float[half];
        for (int i = 0; i < half; i++) {
            float exponent = (float) (2 * i) / (float) d;
            invFreq[i] = 1f / (float) Math.pow(base, exponent);
        }
        float[] cos = new float[tables * l * half], sin = new float[tables * l * half];
        for (int p = 0; p < tables * l; p++) {
            float pos = (float) positions[p];
            for (int i = 0; i < half; i++) {
                float angle = pos * invFreq[i];
                cos[p * half + i] = (float) Math.cos(angle);
                sin[p * half + i] = (float) Math.sin(angle);
            }
        }
        Tensor xs = Kernels.f32Strided(x);
        Tensor out = Tensor.empty(DType.F32, b, h, l, d);
        if (out.numel() == 0) return out;
        MemorySegment src = xs.segment(), os = out.segment();
        long s0 = xs.stride(0), s1 = xs.stride(1), s2 = xs.stride(2), s3 = xs.stride(3), off = xs.offset();
        long rows = (long) b * h * l;
        Parallel.forRange(rows, Math.max(1, ROW_GRAIN / d), (r0, r1) -> {
            float[] row = s3 == 1 ? null : new float[d];
            for (long r = r0; r < r1; r++) {
                int p = (int) (r % l), bh = (int) (r / l), bi = bh / h, hi = bh % h;
                int table = (tables == 1 ? p : bi * l + p) * half;
                long in = off + bi * s0 + hi * s1 + p * s2;
                long o = r * d;
                if (row != null) { // strided head dim: gather the row first
                    for (int t = 0; t < d; t++) row[t] = src.getAtIndex(F32, in + t * s3);
                    MemorySegment.copy(row, 0, os, F32, o * 4, d);
                    rotate(os, o, os, o, half, cos, sin, table);
                } else {
                    rotate(src, in, os, o, half, cos, sin, table);
                }
            }
        });
        Kernels.release(xs, x);
        return out;
    }

    /** out = x·cos + rotate_half(x)·sin on one contiguous row (products rounded before the sum, as torch). */
    private static void rotate(MemorySegment xs, long in, MemorySegment os, long o, int half, float[] cos, float[] sin,
                               int table) {
        int i = 0;
        if (Kernels.VECTOR) {
            int bound = half - half % FLOATS;
            for (; i < bound; i += FLOATS) {
                FloatVector x1 = FloatVector.fromMemorySegment(F, xs, (in + i) * 4, ORDER);
                FloatVector x2 = FloatVector.fromMemorySegment(F, xs, (in + half + i) * 4, ORDER);
                FloatVector c = FloatVector.fromArray(F, cos, table + i);
                FloatVector s = FloatVector.fromArray(F, sin, table + i);
                x1.mul(c).sub(x2.mul(s)).intoMemorySegment(os, (o + i) * 4, ORDER);
                x2.mul(c).add(x1.mul(s)).intoMemorySegment(os, (o + half + i) * 4, ORDER);
            }
        }
        for (; i < half; i++) {
            float x1 = xs.getAtIndex(F32, in + i), x2 = xs.getAtIndex(F32, in + half + i);
            float c = cos[table + i], s = sin[table + i];
            os.setAtIndex(F32, o + i, x1 * c - x2 * s);
            os.setAtIndex(F32, o + half + i, x2 * c + x1 * s);
        }
    }
}
