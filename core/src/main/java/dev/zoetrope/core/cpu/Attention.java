package dev.zoetrope.core.cpu;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Parallel;
import dev.zoetrope.core.Tensor;

import java.lang.foreign.MemorySegment;

/** Scaled dot-product attention with an online softmax over key blocks (memory linear in sequence length). */
final class Attention {
    private Attention() {
    }

    static Tensor attention(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal, float scale) {
        if (q.rank() != 4 || k.rank() != 4 || v.rank() != 4 || q.dim(0) != k.dim(0) || k.dim(0) != v.dim(0)
                || q.dim(3) != k.dim(3) || k.dim(1) != v.dim(1) || k.dim(2) != v.dim(2) || q.dim(1) % k.dim(1) != 0) {
            throw Kernels.shapeError("attention", "q[B, H, Lq, D], k[B, Hk, Lk, D], v[B, Hk, Lk, Dv], H % Hk == 0", q, k, v);
        }
        int b = q.dim(0), h = q.dim(1), lq = q.dim(2), d = q.dim(3);
        int hk = k.dim(1), lk = k.dim(2), dv = v.dim(3);
        int group = h / hk;
        Tensor qc = Kernels.f32(q), kc = Kernels.f32(k), vc = Kernels.f32(v);
        Tensor m = null;
        if (mask != null) m = Kernels.f32(mask).expand(b, h, lq, lk);
        Tensor out = Tensor.empty(DType.F32, b, h, lq, dv);
        MemorySegment qs = qc.segment(), ks = kc.segment(), vs = vc.segment(), os = out.segment();
        long qo = qc.offset(), ko = kc.offset(), vo = vc.offset();
        MemorySegment ms = m == null ? null : m.segment();
        long[] mst = m == null ? null : m.strides();
        long mo = m == null ? 0 : m.offset();
        Parallel.forEach(b * h, bh -> {
            int bi = bh / h, hi = bh % h;
            int kh = hi / group;
            long qBase = qo + (long) bh * lq * d;
            long kBase = ko + ((long) bi * hk + kh) * lk * d;
            long vBase = vo + ((long) bi * hk + kh) * lk * dv;
            float[] scores = new float[lk];
            float[] acc = new float[dv];
            for (int i = 0; i < lq; i++) {
                int limit = causal ? Math.min(lk, i + lk - lq + 1) : lk;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < limit; j++) {
                    float s = 0f;
                    for (int t = 0; t < d; t++) {
                        s += qs.getAtIndex(Kernels.F32, qBase + (long) i * d + t) * ks.getAtIndex(Kernels.F32, kBase + (long) j * d + t);
                    }
                    s *= scale;
                    if (ms != null) s += ms.getAtIndex(Kernels.F32, mo + bi * mst[0] + hi * mst[1] + i * mst[2] + j * mst[3]);
                    scores[j] = s;
                    max = Math.max(max, s);
                }
                java.util.Arrays.fill(acc, 0f);
                double sum = 0;
                for (int j = 0; j < limit; j++) {
                    float p = max == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(scores[j] - max);
                    sum += p;
                    for (int t = 0; t < dv; t++) acc[t] += p * vs.getAtIndex(Kernels.F32, vBase + (long) j * dv + t);
                }
                float inv = sum == 0 ? 0f : (float) (1.0 / sum);
                long ob = ((long) bh * lq + i) * dv;
                for (int t = 0; t < dv; t++) os.setAtIndex(Kernels.F32, ob + t, acc[t] * inv);
            }
        });
        return out;
    }
}
