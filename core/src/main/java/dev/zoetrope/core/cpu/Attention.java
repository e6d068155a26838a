package dev.zoetrope.core.cpu;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Parallel;
import dev.zoetrope.core.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static dev.zoetrope.core.cpu.Kernels.F;
import static dev.zoetrope.core.cpu.Kernels.F32;
import static dev.zoetrope.core.cpu.Kernels.FLOATS;
import static dev.zoetrope.core.cpu.Kernels.ORDER;

/**
 * Scaled dot-product attention, tiled like FlashAttention: each task takes a block of up to {@value #BLOCK_Q}
 * query rows of one head and walks the keys in blocks of up to {@value #BLOCK_K}, keeping a running row max
 * and row sum (online softmax) and rescaling its output accumulator when the max grows. Memory is linear in
 * the sequence length: the only score storage is one BLOCK_Q × BLOCK_K tile per worker.
 *
 * <p>Before the tasks run, K is packed transposed per key block ([D][BLOCK_K], so the score micro-kernel
 * loads consecutive keys as vectors) and V is packed with rows padded to whole vectors; both in F32, which
 * also widens F16/BF16 inputs and resolves any strides once. The micro-kernels are register-blocked 4 rows
 * × 2 vectors. Each task's arithmetic is fixed by the problem size, so results do not depend on the thread
 * count.
 */
final class Attention {
    private Attention() {
    }

    static final int BLOCK_Q = 64;
    static final int BLOCK_K = 128;
    /** Rows per register block in the micro-kernels. */
    private static final int ROWS = 4;

    static Tensor attention(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal, float scale) {
        Kernels.requireFloat(q, "attention query");
        Kernels.requireFloat(k, "attention key");
        Kernels.requireFloat(v, "attention value");
        if (q.rank() != 4 || k.rank() != 4 || v.rank() != 4 || q.dim(0) != k.dim(0) || k.dim(0) != v.dim(0)
                || q.dim(3) != k.dim(3) || k.dim(1) != v.dim(1) || k.dim(2) != v.dim(2) || k.dim(1) == 0
                || q.dim(1) % k.dim(1) != 0) {
            throw Kernels.shapeError("attention", "q[B, H, Lq, D], k[B, Hk, Lk, D], v[B, Hk, Lk, Dv] with H a multiple of Hk", q, k, v);
        }
        int b = q.dim(0), h = q.dim(1), lq = q.dim(2), d = q.dim(3);
        int hk = k.dim(1), lk = k.dim(2), dv = v.dim(3);
        if (lk == 0) return Tensor.zeros(DType.F32, b, h, lq, dv); // nothing to attend to
        Tensor out = Tensor.empty(DType.F32, b, h, lq, dv);
        if (out.numel() == 0) return out;
        Tensor m = null;
        if (mask != null) {
            Kernels.requireFloat(mask, "attention mask");
            try {
                m = Kernels.f32Strided(mask).expand(b, h, lq, lk);
            } catch (IllegalArgumentException e) {
                throw Kernels.shapeError("attention", "an additive mask broadcastable to [B, H, Lq, Lk] = "
                        + Arrays.toString(new int[] {b, h, lq, lk}), mask);
            }
        }
        Plan plan = Plan.of(b, h, hk, lq, lk, d, dv, causal, scale);
        Tensor kt = Tensor.empty(DType.F32, b * hk, plan.keyBlocks, d, plan.bk);
        Tensor vp = Tensor.empty(DType.F32, b * hk, plan.keyBlocks * plan.bk, plan.dvp);
        try {
            packKeys(k, kt, plan);
            packValues(v, vp, plan);
            run(q, kt, vp, m, out, plan);
        } finally {
            kt.close();
            vp.close();
        }
        return out;
    }

    /** Sizes shared by the packing and the tasks: bk keys per block (whole vector pairs), dvp = Dv padded. */
    private record Plan(int b, int h, int hk, int lq, int lk, int d, int dv, boolean causal, float scale,
                        int bk, int keyBlocks, int dvp, int queryBlocks) {
        static Plan of(int b, int h, int hk, int lq, int lk, int d, int dv, boolean causal, float scale) {
            int bk = Math.min(BLOCK_K, Kernels.roundUp(lk, 2 * FLOATS));
            return new Plan(b, h, hk, lq, lk, d, dv, causal, scale, bk, (lk + bk - 1) / bk,
                    Kernels.roundUp(dv, FLOATS), (lq + BLOCK_Q - 1) / BLOCK_Q);
        }
    }

    // ---------------------------------------------------------------- packing

    /** Copies t[bi, hi, l, 0..n) (any float dtype and strides) into dst[at..at+n). */
    private static void readRow(Tensor t, int bi, int hi, int l, float[] dst, int at, int n) {
        long base = t.offset() + bi * t.stride(0) + hi * t.stride(1) + l * t.stride(2);
        long step = t.stride(3);
        MemorySegment s = t.segment();
        if (t.dtype() == DType.F32 && step == 1) {
            MemorySegment.copy(s, F32, base * 4, dst, at, n);
        } else {
            DType type = t.dtype();
            for (int i = 0; i < n; i++) dst[at + i] = Kernels.load(s, type, base + i * step);
        }
    }

    /** kt[bh][kb] = K[bh, kb·bk .. +bk, :]ᵀ as [D][bk], keys past Lk zero. */
    private static void packKeys(Tensor k, Tensor kt, Plan p) {
        MemorySegment dst = kt.segment();
        int tile = p.d * p.bk;
        Parallel.forEach(p.b * p.hk * p.keyBlocks, task -> {
            int bh = task / p.keyBlocks, kb = task % p.keyBlocks;
            int j0 = kb * p.bk, valid = Math.min(p.bk, p.lk - j0);
            float[] row = new float[p.d];
            float[] block = new float[tile];
            for (int j = 0; j < valid; j++) {
                readRow(k, bh / p.hk, bh % p.hk, j0 + j, row, 0, p.d);
                for (int t = 0; t < p.d; t++) block[t * p.bk + j] = row[t];
            }
            MemorySegment.copy(block, 0, dst, F32, (long) task * tile * 4, tile);
        });
    }

    /** vp[bh] = V[bh] as rows of dvp floats (zero padded), keys past Lk zero. */
    private static void packValues(Tensor v, Tensor vp, Plan p) {
        MemorySegment dst = vp.segment();
        int tile = p.bk * p.dvp;
        Parallel.forEach(p.b * p.hk * p.keyBlocks, task -> {
            int bh = task / p.keyBlocks, kb = task % p.keyBlocks;
            int j0 = kb * p.bk, valid = Math.min(p.bk, p.lk - j0);
            float[] block = new float[tile];
            for (int j = 0; j < valid; j++) readRow(v, bh / p.hk, bh % p.hk, j0 + j, block, j * p.dvp, p.dv);
            MemorySegment.copy(block, 0, dst, F32, (long) task * tile * 4, tile);
        });
    }

    // ---------------------------------------------------------------- tasks

    /** Per-worker tiles, reused across tasks and calls. */
    private static final class Scratch {
        float[] q = new float[0], s = new float[0], o = new float[0], rowMax = new float[0], rowSum = new float[0];

        Scratch fit(Plan p) {
            int qn = BLOCK_Q * p.d, sn = BLOCK_Q * p.bk, on = BLOCK_Q * p.dvp;
            if (q.length < qn) q = new float[qn];
            if (s.length < sn) s = new float[sn];
            if (o.length < on) o = new float[on];
            if (rowMax.length < BLOCK_Q) {
                rowMax = new float[BLOCK_Q];
                rowSum = new float[BLOCK_Q];
            }
            return this;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private static void run(Tensor q, Tensor kt, Tensor vp, Tensor mask, Tensor out, Plan p) {
        int tasks = p.b * p.h * p.queryBlocks;
        // Group tiny tasks (short sequences, many heads) so each chunk has some 10⁵ flops.
        long flopsPerTask = 2L * Math.min(BLOCK_Q, p.lq) * p.lk * (p.d + p.dv);
        long grain = Math.max(1, (1L << 18) / Math.max(1, flopsPerTask));
        MemorySegment kts = kt.segment(), vps = vp.segment(), os = out.segment();
        Parallel.forRange(tasks, grain, (t0, t1) -> {
            Scratch sc = SCRATCH.get().fit(p);
            for (long t = t0; t < t1; t++) queryBlock((int) t, q, kts, vps, mask, os, p, sc);
        });
    }

    private static void queryBlock(int task, Tensor q, MemorySegment kts, MemorySegment vps, Tensor mask,
                                   MemorySegment os, Plan p, Scratch sc) {
        int bh = task / p.queryBlocks, qb = task % p.queryBlocks;
        int bi = bh / p.h, hi = bh % p.h;
        int kvHead = bi * p.hk + hi / (p.h / p.hk);
        int i0 = qb * BLOCK_Q, rows = Math.min(BLOCK_Q, p.lq - i0);
        int d = p.d, bk = p.bk, dvp = p.dvp;
        float[] qs = sc.q, s = sc.s, o = sc.o, rowMax = sc.rowMax, rowSum = sc.rowSum;
        for (int r = 0; r < rows; r++) {
            readRow(q, bi, hi, i0 + r, qs, r * d, d);
            for (int t = 0; t < d; t++) qs[r * d + t] *= p.scale;
        }
        Arrays.fill(o, 0, rows * dvp, 0f);
        Arrays.fill(rowMax, 0, rows, Float.NEGATIVE_INFINITY);
        Arrays.fill(rowSum, 0, rows, 0f);
        // causal: query i sees keys j ≤ i + Lk − Lq; the block's last row sees the most
        int keyEnd = p.causal ? Math.min(p.lk, i0 + rows + p.lk - p.lq) : p.lk;
        for (int j0 = 0; j0 < keyEnd; j0 += bk) {
            int kb = j0 / bk;
            int cols = Math.min(bk, keyEnd - j0); // keys of this block any row may see
            long ktBase = ((long) kvHead * p.keyBlocks + kb) * d * bk;
            if (Kernels.VECTOR) scoresVector(qs, rows, d, kts, ktBase, bk, s);
            else scoresScalar(qs, rows, d, kts, ktBase, bk, s);
            for (int r = 0; r < rows; r++) {
                int i = i0 + r;
                int visible = p.causal ? Math.max(0, Math.min(cols, i + p.lk - p.lq - j0 + 1)) : cols;
                int row = r * bk;
                if (mask != null && visible > 0) addMask(mask, bi, hi, i, j0, visible, s, row);
                softmaxStep(s, row, visible, bk, r, rowMax, rowSum, o, dvp);
            }
            long vBase = ((long) kvHead * p.keyBlocks * bk + j0) * dvp;
            if (Kernels.VECTOR) accumulateVector(s, rows, bk, cols, vps, vBase, dvp, o);
            else accumulateScalar(s, rows, bk, cols, vps, vBase, dvp, o);
        }
        long outBase = ((long) bh * p.lq + i0) * p.dv;
        for (int r = 0; r < rows; r++) {
            float inv = rowSum[r] == 0f ? 0f : 1f / rowSum[r];
            for (int c = 0; c < p.dv; c++) o[r * dvp + c] *= inv;
            MemorySegment.copy(o, r * dvp, os, F32, (outBase + (long) r * p.dv) * 4, p.dv);
        }
    }

    private static void addMask(Tensor mask, int bi, int hi, int i, int j0, int n, float[] s, int at) {
        MemorySegment ms = mask.segment();
        long base = mask.offset() + bi * mask.stride(0) + hi * mask.stride(1) + i * mask.stride(2) + j0 * mask.stride(3);
        long step = mask.stride(3);
        int j = 0;
        if (Kernels.VECTOR && step == 1) {
            int bound = n - n % FLOATS;
            for (; j < bound; j += FLOATS) {
                FloatVector.fromArray(F, s, at + j)
                        .add(FloatVector.fromMemorySegment(F, ms, (base + j) * 4, ORDER))
                        .intoArray(s, at + j);
            }
        }
        for (; j < n; j++) s[at + j] += ms.getAtIndex(F32, base + j * step);
    }

    /**
     * One online-softmax step for row r on its scores s[at .. at+visible): new max, p = exp(s − max) written
     * over the scores (0 for the rest of the block), running sum and output rescaled by exp(oldMax − newMax).
     */
    private static void softmaxStep(float[] s, int at, int visible, int bk, int r, float[] rowMax, float[] rowSum,
                                    float[] o, int dvp) {
        float blockMax = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < visible; j++) blockMax = Math.max(blockMax, s[at + j]);
        float newMax = Math.max(rowMax[r], blockMax);
        if (newMax == Float.NEGATIVE_INFINITY) { // nothing visible yet (causal or fully masked): contributes 0
            Arrays.fill(s, at, at + bk, 0f);
            return;
        }
        float sum = Kernels.VECTOR ? expRowVector(s, at, visible, newMax) : expRowScalar(s, at, visible, newMax);
        Arrays.fill(s, at + visible, at + bk, 0f);
        if (rowMax[r] != newMax) {
            float alpha = rowMax[r] == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(rowMax[r] - newMax);
            rowSum[r] *= alpha;
            for (int c = r * dvp, e = c + dvp; c < e; c++) o[c] *= alpha;
            rowMax[r] = newMax;
        }
        rowSum[r] += sum;
    }

    private static float expRowScalar(float[] s, int at, int n, float max) {
        float sum = 0f;
        for (int j = 0; j < n; j++) {
            float e = (float) Math.exp(s[at + j] - max);
            s[at + j] = e;
            sum += e;
        }
        return sum;
    }

    private static float expRowVector(float[] s, int at, int n, float max) {
        FloatVector m = FloatVector.broadcast(F, max);
        FloatVector acc = FloatVector.zero(F);
        int j = 0;
        int bound = n - n % FLOATS;
        for (; j < bound; j += FLOATS) {
            FloatVector e = VectorMath.exp(FloatVector.fromArray(F, s, at + j).sub(m));
            e.intoArray(s, at + j);
            acc = acc.add(e);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; j < n; j++) {
            float e = (float) Math.exp(s[at + j] - max);
            s[at + j] = e;
            sum += e;
        }
        return sum;
    }

    // ---------------------------------------------------------------- micro-kernels

    /** s[r][j] = Σ_t q[r][t]·kt[t][j] for r < rows, j < bk. */
    private static void scoresScalar(float[] q, int rows, int d, MemorySegment kt, long ktBase, int bk, float[] s) {
        for (int r = 0; r < rows; r++) {
            Arrays.fill(s, r * bk, (r + 1) * bk, 0f);
            for (int t = 0; t < d; t++) {
                float qv = q[r * d + t];
                long kb = ktBase + (long) t * bk;
                for (int j = 0; j < bk; j++) s[r * bk + j] += qv * kt.getAtIndex(F32, kb + j);
            }
        }
    }

    private static void scoresVector(float[] q, int rows, int d, MemorySegment kt, long ktBase, int bk, float[] s) {
        int r = 0;
        for (; r + ROWS <= rows; r += ROWS) {
            for (int j = 0; j < bk; j += 2 * FLOATS) {
                FloatVector a00 = FloatVector.zero(F), a01 = a00, a10 = a00, a11 = a00,
                        a20 = a00, a21 = a00, a30 = a00, a31 = a00;
                int q0 = r * d, q1 = q0 + d, q2 = q1 + d, q3 = q2 + d;
                for (int t = 0; t < d; t++) {
                    long kb = (ktBase + (long) t * bk + j) * 4;
                    FloatVector k0 = FloatVector.fromMemorySegment(F, kt, kb, ORDER);
                    FloatVector k1 = FloatVector.fromMemorySegment(F, kt, kb + FLOATS * 4L, ORDER);
                    FloatVector x = FloatVector.broadcast(F, q[q0 + t]);
                    a00 = x.fma(k0, a00);
                    a01 = x.fma(k1, a01);
                    x = FloatVector.broadcast(F, q[q1 + t]);
                    a10 = x.fma(k0, a10);
                    a11 = x.fma(k1, a11);
                    x = FloatVector.broadcast(F, q[q2 + t]);
                    a20 = x.fma(k0, a20);
                    a21 = x.fma(k1, a21);
                    x = FloatVector.broadcast(F, q[q3 + t]);
                    a30 = x.fma(k0, a30);
                    a31 = x.fma(k1, a31);
                }
                int o = r * bk + j;
                a00.intoArray(s, o);
                a01.intoArray(s, o + FLOATS);
                a10.intoArray(s, o + bk);
                a11.intoArray(s, o + bk + FLOATS);
                a20.intoArray(s, o + 2 * bk);
                a21.intoArray(s, o + 2 * bk + FLOATS);
                a30.intoArray(s, o + 3 * bk);
                a31.intoArray(s, o + 3 * bk + FLOATS);
            }
        }
        for (; r < rows; r++) {
            for (int j = 0; j < bk; j += 2 * FLOATS) {
                FloatVector a0 = FloatVector.zero(F), a1 = a0;
                for (int t = 0; t < d; t++) {
                    long kb = (ktBase + (long) t * bk + j) * 4;
                    FloatVector x = FloatVector.broadcast(F, q[r * d + t]);
                    a0 = x.fma(FloatVector.fromMemorySegment(F, kt, kb, ORDER), a0);
                    a1 = x.fma(FloatVector.fromMemorySegment(F, kt, kb + FLOATS * 4L, ORDER), a1);
                }
                a0.intoArray(s, r * bk + j);
                a1.intoArray(s, r * bk + j + FLOATS);
            }
        }
    }

    /** o[r][:] += Σ_{j < cols} p[r][j]·v[j][:] for r < rows. */
    private static void accumulateScalar(float[] p, int rows, int bk, int cols, MemorySegment v, long vBase, int dvp, float[] o) {
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) {
                float pv = p[r * bk + j];
                if (pv == 0f) continue;
                long vb = vBase + (long) j * dvp;
                for (int c = 0; c < dvp; c++) o[r * dvp + c] += pv * v.getAtIndex(F32, vb + c);
            }
        }
    }

    private static void accumulateVector(float[] p, int rows, int bk, int cols, MemorySegment v, long vBase, int dvp, float[] o) {
        int r = 0;
        for (; r + ROWS <= rows; r += ROWS) {
            int p0 = r * bk, p1 = p0 + bk, p2 = p1 + bk, p3 = p2 + bk;
            int o0 = r * dvp, o1 = o0 + dvp, o2 = o1 + dvp, o3 = o2 + dvp;
            int c = 0;
            for (; c + 2 * FLOATS <= dvp; c += 2 * FLOATS) {
                FloatVector a00 = FloatVector.fromArray(F, o, o0 + c), a01 = FloatVector.fromArray(F, o, o0 + c + FLOATS);
                FloatVector a10 = FloatVector.fromArray(F, o, o1 + c), a11 = FloatVector.fromArray(F, o, o1 + c + FLOATS);
                FloatVector a20 = FloatVector.fromArray(F, o, o2 + c), a21 = FloatVector.fromArray(F, o, o2 + c + FLOATS);
                FloatVector a30 = FloatVector.fromArray(F, o, o3 + c), a31 = FloatVector.fromArray(F, o, o3 + c + FLOATS);
                for (int j = 0; j < cols; j++) {
                    long vb = (vBase + (long) j * dvp + c) * 4;
                    FloatVector v0 = FloatVector.fromMemorySegment(F, v, vb, ORDER);
                    FloatVector v1 = FloatVector.fromMemorySegment(F, v, vb + FLOATS * 4L, ORDER);
                    FloatVector x = FloatVector.broadcast(F, p[p0 + j]);
                    a00 = x.fma(v0, a00);
                    a01 = x.fma(v1, a01);
                    x = FloatVector.broadcast(F, p[p1 + j]);
                    a10 = x.fma(v0, a10);
                    a11 = x.fma(v1, a11);
                    x = FloatVector.broadcast(F, p[p2 + j]);
                    a20 = x.fma(v0, a20);
                    a21 = x.fma(v1, a21);
                    x = FloatVector.broadcast(F, p[p3 + j]);
                    a30 = x.fma(v0, a30);
                    a31 = x.fma(v1, a31);
                }
                a00.intoArray(o, o0 + c);
                a01.intoArray(o, o0 + c + FLOATS);
                a10.intoArray(o, o1 + c);
                a11.intoArray(o, o1 + c + FLOATS);
                a20.intoArray(o, o2 + c);
                a21.intoArray(o, o2 + c + FLOATS);
                a30.intoArray(o, o3 + c);
                a31.intoArray(o, o3 + c + FLOATS);
            }
            for (; c < dvp; c += FLOATS) {
                FloatVector a0 = FloatVector.fromArray(F, o, o0 + c), a1 = FloatVector.fromArray(F, o, o1 + c);
                FloatVector a2 = FloatVector.fromArray(F, o, o2 + c), a3 = FloatVector.fromArray(F, o, o3 + c);
                for (int j = 0; j < cols; j++) {
                    FloatVector v0 = FloatVector.fromMemorySegment(F, v, (vBase + (long) j * dvp + c) * 4, ORDER);
                    a0 = FloatVector.broadcast(F, p[p0 + j]).fma(v0, a0);
                    a1 = FloatVector.broadcast(F, p[p1 + j]).fma(v0, a1);
                    a2 = FloatVector.broadcast(F, p[p2 + j]).fma(v0, a2);
                    a3 = FloatVector.broadcast(F, p[p3 + j]).fma(v0, a3);
                }
                a0.intoArray(o, o0 + c);
                a1.intoArray(o, o1 + c);
                a2.intoArray(o, o2 + c);
                a3.intoArray(o, o3 + c);
            }
        }
        for (; r < rows; r++) {
            int p0 = r * bk, o0 = r * dvp;
            for (int c = 0; c < dvp; c += FLOATS) {
                FloatVector a0 = FloatVector.fromArray(F, o, o0 + c);
                for (int j = 0; j < cols; j++) {
                    FloatVector v0 = FloatVector.fromMemorySegment(F, v, (vBase + (long) j * dvp + c) * 4, ORDER);
                    a0 = FloatVector.broadcast(F, p[p0 + j]).fma(v0, a0);
                }
                a0.intoArray(o, o0 + c);
            }
        }
    }
}
