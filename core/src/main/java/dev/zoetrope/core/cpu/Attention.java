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
 * × 2 vectors. With fewer than {@value #FEW_QUERIES} query rows (decode steps) packing would cost more than
 * it saves, and {@link #fewQueries} reads K and V in place instead. Each task's arithmetic is fixed by the
 * problem size, so results do not depend on the thread count.
 *
 * <p>Calls without mask or causality and with enough queries (diffusion and vision encoders) go to
 * {@link QueryLaneAttention}, which computes the same blocks transposed (query rows in the vector lanes).
 */
final class Attention {
    private Attention() {
    }

    /** Query rows per task. */
    static final int BLOCK_Q = 64;
    /** Keys per block (fewer when the whole sequence is shorter). */
    static final int BLOCK_K = 256;
    /** Rows per register block in the micro-kernels. */
    private static final int ROWS = 4;
    /** Fewer query rows than this take the unpacked path. */
    static final int FEW_QUERIES = 8;

    static Tensor attention(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal, float scale) {
        Kernels.requireFloat(q, "attention query");
        Kernels.requireFloat(k, "attention key");
        Kernels.requireFloat(v, "attention value");
        if (q.rank() != 4 || k.rank() != 4 || v.rank() != 4 || q.dim(0) != k.dim(0) || k.dim(0) != v.dim(0)
                || q.dim(3) != k.dim(3) || k.dim(1) != v.dim(1) || k.dim(2) != v.dim(2) || k.dim(1) == 0
                || q.dim(1) % k.dim(1) != 0) {
            throw Kernels.shapeError("attention",
                    "q[B, H, Lq, D], k[B, Hk, Lk, D], v[B, Hk, Lk, Dv] with H a multiple of Hk", q, k, v);
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
        if (QueryLaneAttention.applies(m, causal, b, hk, lq, lk, d, dv)) {
            QueryLaneAttention.attention(q, k, v, out, scale);
            return out;
        }
        if (lq < FEW_QUERIES) {
            Tensor kr = rowsF32(k), vr = rowsF32(v);
            fewQueries(q, kr, vr, m, out, b, h, hk, lq, lk, d, dv, causal, scale);
            Kernels.release(kr, k);
            Kernels.release(vr, v);
            if (m != null) Kernels.release(m, mask);
            return out;
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
        if (m != null) Kernels.release(m, mask);
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
    static void readRow(Tensor t, int bi, int hi, int l, float[] dst, int at, int n) {
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
            Scratch sc = SCRATCH.get().fitPack(tile + p.d);
            float[] block = sc.pack, row = sc.row;
            Arrays.fill(block, 0, tile, 0f);
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
            float[] block = SCRATCH.get().fitPack(tile).pack;
            Arrays.fill(block, 0, tile, 0f);
            for (int j = 0; j < valid; j++) readRow(v, bh / p.hk, bh % p.hk, j0 + j, block, j * p.dvp, p.dv);
            MemorySegment.copy(block, 0, dst, F32, (long) task * tile * 4, tile);
        });
    }

    // ---------------------------------------------------------------- tasks

    /** Per-worker tiles, reused across tasks and calls. */
    private static final class Scratch {
        float[] q = new float[0], s = new float[0], o = new float[0], rowMax = new float[0], rowSum = new float[0];
        float[] pack = new float[0], row = new float[0];
        final float[] lanes = new float[FLOATS];

        Scratch fitPack(int n) {
            if (pack.length < n) {
                pack = new float[n];
                row = new float[n];
            }
            return this;
        }

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
                softmaxStep(s, row, visible, bk, r, rowMax, rowSum, o, dvp, sc.lanes);
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
                                    float[] o, int dvp, float[] lanes) {
        float blockMax = Kernels.VECTOR ? rowMaxVector(s, at, visible) : Float.NEGATIVE_INFINITY;
        if (!Kernels.VECTOR) for (int j = 0; j < visible; j++) blockMax = Math.max(blockMax, s[at + j]);
        float newMax = Math.max(rowMax[r], blockMax);
        if (newMax == Float.NEGATIVE_INFINITY) { // nothing visible yet (causal or fully masked): contributes 0
            Arrays.fill(s, at, at + bk, 0f);
            return;
        }
        float sum;
        if (Kernels.VECTOR) {
            // lanes past `visible` up to the vector boundary become exp(−∞) = 0, so the whole-vector sum is exact
            int whole = Math.min(bk, Kernels.roundUp(visible, FLOATS));
            Arrays.fill(s, at + visible, at + whole, Float.NEGATIVE_INFINITY);
            sum = VectorMath.expSum(s, at, whole, newMax, lanes);
            Arrays.fill(s, at + whole, at + bk, 0f);
        } else {
            sum = 0f;
            for (int j = 0; j < visible; j++) {
                float e = (float) Math.exp(s[at + j] - newMax);
                s[at + j] = e;
                sum += e;
            }
            Arrays.fill(s, at + visible, at + bk, 0f);
        }
        if (rowMax[r] != newMax) {
            float alpha = rowMax[r] == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(rowMax[r] - newMax);
            rowSum[r] *= alpha;
            int c = r * dvp, e = c + dvp;
            if (Kernels.VECTOR) {
                for (; c < e; c += FLOATS) FloatVector.fromArray(F, o, c).mul(alpha).intoArray(o, c);
            } else {
                for (; c < e; c++) o[c] *= alpha;
            }
            rowMax[r] = newMax;
        }
        rowSum[r] += sum;
    }

    private static float rowMaxVector(float[] s, int at, int n) {
        int j = 0;
        float max = Float.NEGATIVE_INFINITY;
        if (n >= FLOATS) {
            FloatVector m = FloatVector.fromArray(F, s, at);
            for (j = FLOATS; j + FLOATS <= n; j += FLOATS) m = m.max(FloatVector.fromArray(F, s, at + j));
            max = m.reduceLanes(VectorOperators.MAX);
        }
        for (; j < n; j++) max = Math.max(max, s[at + j]);
        return max;
    }

    // ---------------------------------------------------------------- few queries (decode)

    /** t itself when its rows are F32 with unit stride, else an F32 copy. */
    private static Tensor rowsF32(Tensor t) {
        return t.dtype() == DType.F32 && t.stride(3) == 1 ? t : t.to(DType.F32);
    }

    /** Keys per task in the few-queries path; partial softmax results of the chunks are merged in order. */
    static final int KEY_CHUNK = 512;

    /**
     * Decode-style attention without packing. A task takes one KV head and one chunk of up to
     * {@value #KEY_CHUNK} keys, and serves every query row of every query head that shares the KV head (GQA),
     * so each K and V row is read from memory once per chunk. It leaves a partial result per query row
     * (chunk max, sum of exp, unnormalised output); the chunks are then merged in key order. Chunk
     * boundaries depend only on Lk, so results do not depend on the thread count.
     */
    private static void fewQueries(Tensor q, Tensor k, Tensor v, Tensor mask, Tensor out, int b, int h, int hk, int lq,
                                   int lk, int d, int dv, boolean causal, float scale) {
        int group = h / hk, rows = group * lq; // query row r = g·lq + i belongs to head kvh·group + g
        int chunks = (lk + KEY_CHUNK - 1) / KEY_CHUNK;
        int partial = dv + 2; // per row and chunk: max, sum, output[dv]
        float[] partials = new float[b * hk * chunks * rows * partial];
        MemorySegment ks = k.segment(), vs = v.segment(), os = out.segment();
        Parallel.forEach(b * hk * chunks, task -> {
            int bk = task / chunks, chunk = task % chunks, bi = bk / hk, kvh = bk % hk;
            int j0 = chunk * KEY_CHUNK, n = Math.min(KEY_CHUNK, lk - j0);
            float[] qs = new float[rows * d];
            float[] s = new float[rows * Kernels.roundUp(n, FLOATS)];
            int stride = Kernels.roundUp(n, FLOATS);
            float[] lanes = new float[FLOATS];
            for (int r = 0; r < rows; r++) {
                readRow(q, bi, kvh * group + r / lq, r % lq, qs, r * d, d);
                for (int c = 0; c < d; c++) qs[r * d + c] *= scale;
            }
            long kBase = k.offset() + bi * k.stride(0) + kvh * k.stride(1), kRow = k.stride(2);
            long vBase = v.offset() + bi * v.stride(0) + kvh * v.stride(1), vRow = v.stride(2);
            // scores: each K row once, against every query row (causal: query i sees keys ≤ i + Lk − Lq)
            float[] lanes4 = new float[4 * FLOATS];
            for (int j = 0; j < n; j++) {
                long at = kBase + (j0 + j) * kRow;
                for (int r = 0; r < rows; r += 4) dot4(qs, r, Math.min(4, rows - r), d, ks, at, lanes4, s, r * stride + j, stride);
            }
            if (causal) {
                for (int r = 0; r < rows; r++) {
                    int visible = Math.max(0, Math.min(n, r % lq + lk - lq + 1 - j0));
                    Arrays.fill(s, r * stride + visible, r * stride + n, Float.NEGATIVE_INFINITY);
                }
            }
            int base = task * rows * partial;
            for (int r = 0; r < rows; r++) {
                int at = r * stride;
                if (mask != null) addMask(mask, bi, kvh * group + r / lq, r % lq, j0, n, s, at);
                float max = Kernels.VECTOR ? rowMaxVector(s, at, n) : Float.NEGATIVE_INFINITY;
                if (!Kernels.VECTOR) for (int j = 0; j < n; j++) max = Math.max(max, s[at + j]);
                float sum = 0f;
                if (max == Float.NEGATIVE_INFINITY) {
                    Arrays.fill(s, at, at + n, 0f);
                } else if (Kernels.VECTOR) {
                    Arrays.fill(s, at + n, at + stride, Float.NEGATIVE_INFINITY); // → exp = 0
                    sum = VectorMath.expSum(s, at, stride, max, lanes);
                } else {
                    for (int j = 0; j < n; j++) {
                        float e = (float) Math.exp(s[at + j] - max);
                        s[at + j] = e;
                        sum += e;
                    }
                }
                partials[base + r * partial] = max;
                partials[base + r * partial + 1] = sum;
            }
            // outputs: Σ_j p[r][j]·V[j] for every query row, accumulated in registers over the chunk's keys
            float[] o = new float[rows * dv];
            weightedSum(s, rows, stride, n, vs, vBase + j0 * vRow, vRow, dv, o);
            for (int r = 0; r < rows; r++) System.arraycopy(o, r * dv, partials, base + r * partial + 2, dv);
        });
        // merge the chunks of each query row in key order: o = Σ o_c·e^(m_c − M) / Σ l_c·e^(m_c − M)
        float[] line = new float[dv];
        for (int bk = 0; bk < b * hk; bk++) {
            for (int r = 0; r < rows; r++) {
                float max = Float.NEGATIVE_INFINITY;
                for (int c = 0; c < chunks; c++) max = Math.max(max, partials[((bk * chunks + c) * rows + r) * partial]);
                Arrays.fill(line, 0f);
                float sum = 0f;
                if (max != Float.NEGATIVE_INFINITY) {
                    for (int c = 0; c < chunks; c++) {
                        int at = ((bk * chunks + c) * rows + r) * partial;
                        if (partials[at] == Float.NEGATIVE_INFINITY) continue;
                        float w = (float) Math.exp(partials[at] - max);
                        sum += partials[at + 1] * w;
                        for (int e = 0; e < dv; e++) line[e] += partials[at + 2 + e] * w;
                    }
                    float inv = 1f / sum;
                    for (int e = 0; e < dv; e++) line[e] *= inv;
                }
                int bi = bk / hk, head = (bk % hk) * group + r / lq, i = r % lq;
                MemorySegment.copy(line, 0, os, F32, ((((long) bi * h + head) * lq + i) * dv) * 4, dv);
            }
        }
    }

    /**
     * o[r][0..dv) = Σ_{j < n} p[r·stride + j]·v[base + j·rowStride ..] for r < rows: blocks of 4 rows × 2
     * vectors of columns stay in registers while the keys stream by; leftover columns go lane by lane.
     */
    private static void weightedSum(float[] p, int rows, int stride, int n, MemorySegment v, long base, long rowStride,
                                    int dv, float[] o) {
        int c = 0;
        if (Kernels.VECTOR) {
            for (; c + FLOATS <= dv; c += FLOATS) {
                boolean pair = c + 2 * FLOATS <= dv;
                int r = 0;
                for (; r + 4 <= rows; r += 4) {
                    FloatVector a00 = FloatVector.zero(F), a01 = a00, a10 = a00, a11 = a00;
                    FloatVector a20 = a00, a21 = a00, a30 = a00, a31 = a00;
                    int p0 = r * stride;
                    for (int j = 0; j < n; j++) {
                        long at = (base + j * rowStride + c) * 4;
                        FloatVector v0 = FloatVector.fromMemorySegment(F, v, at, ORDER);
                        FloatVector v1 = pair ? FloatVector.fromMemorySegment(F, v, at + FLOATS * 4L, ORDER) : v0;
                        FloatVector x = FloatVector.broadcast(F, p[p0 + j]);
                        a00 = x.fma(v0, a00);
                        a01 = x.fma(v1, a01);
                        x = FloatVector.broadcast(F, p[p0 + stride + j]);
                        a10 = x.fma(v0, a10);
                        a11 = x.fma(v1, a11);
                        x = FloatVector.broadcast(F, p[p0 + 2 * stride + j]);
                        a20 = x.fma(v0, a20);
                        a21 = x.fma(v1, a21);
                        x = FloatVector.broadcast(F, p[p0 + 3 * stride + j]);
                        a30 = x.fma(v0, a30);
                        a31 = x.fma(v1, a31);
                    }
                    a00.intoArray(o, r * dv + c);
                    a10.intoArray(o, (r + 1) * dv + c);
                    a20.intoArray(o, (r + 2) * dv + c);
                    a30.intoArray(o, (r + 3) * dv + c);
                    if (pair) {
                        a01.intoArray(o, r * dv + c + FLOATS);
                        a11.intoArray(o, (r + 1) * dv + c + FLOATS);
                        a21.intoArray(o, (r + 2) * dv + c + FLOATS);
                        a31.intoArray(o, (r + 3) * dv + c + FLOATS);
                    }
                }
                for (; r < rows; r++) {
                    FloatVector a0 = FloatVector.zero(F), a1 = a0;
                    for (int j = 0; j < n; j++) {
                        long at = (base + j * rowStride + c) * 4;
                        FloatVector x = FloatVector.broadcast(F, p[r * stride + j]);
                        a0 = x.fma(FloatVector.fromMemorySegment(F, v, at, ORDER), a0);
                        if (pair) a1 = x.fma(FloatVector.fromMemorySegment(F, v, at + FLOATS * 4L, ORDER), a1);
                    }
                    a0.intoArray(o, r * dv + c);
                    if (pair) a1.intoArray(o, r * dv + c + FLOATS);
                }
                if (pair) c += FLOATS;
            }
        }
        for (; c < dv; c++) {
            for (int r = 0; r < rows; r++) {
                float acc = 0f;
                for (int j = 0; j < n; j++) acc += p[r * stride + j] * v.getAtIndex(F32, base + j * rowStride + c);
                o[r * dv + c] = acc;
            }
        }
    }

    /**
     * Dot products of query rows first .. first+count−1 (count ≤ 4; q rows of d floats) with the K row at
     * {@code at}, written to s[sAt + r·stride]: one pass over the K row with four independent accumulator
     * chains (missing rows repeat the last one and are not written); lanes summed as a fixed tree.
     */
    private static void dot4(float[] q, int first, int count, int d, MemorySegment k, long at, float[] lanes, float[] s,
                             int sAt, int stride) {
        int qo = first * d;
        int q1 = qo + Math.min(1, count - 1) * d, q2 = qo + Math.min(2, count - 1) * d, q3 = qo + Math.min(3, count - 1) * d;
        int t = 0;
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
        if (Kernels.VECTOR && d >= FLOATS) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (; t + FLOATS <= d; t += FLOATS) {
                FloatVector kv = FloatVector.fromMemorySegment(F, k, (at + t) * 4, ORDER);
                a0 = FloatVector.fromArray(F, q, qo + t).fma(kv, a0);
                a1 = FloatVector.fromArray(F, q, q1 + t).fma(kv, a1);
                a2 = FloatVector.fromArray(F, q, q2 + t).fma(kv, a2);
                a3 = FloatVector.fromArray(F, q, q3 + t).fma(kv, a3);
            }
            a0.intoArray(lanes, 0);
            a1.intoArray(lanes, FLOATS);
            a2.intoArray(lanes, 2 * FLOATS);
            a3.intoArray(lanes, 3 * FLOATS);
            s0 = treeSum(lanes, 0);
            s1 = treeSum(lanes, FLOATS);
            s2 = treeSum(lanes, 2 * FLOATS);
            s3 = treeSum(lanes, 3 * FLOATS);
        }
        for (; t < d; t++) {
            float kt = k.getAtIndex(F32, at + t);
            s0 += q[qo + t] * kt;
            s1 += q[q1 + t] * kt;
            s2 += q[q2 + t] * kt;
            s3 += q[q3 + t] * kt;
        }
        s[sAt] = s0;
        if (count > 1) s[sAt + stride] = s1;
        if (count > 2) s[sAt + 2 * stride] = s2;
        if (count > 3) s[sAt + 3 * stride] = s3;
    }

    /** Σ lanes[at .. at+FLOATS) as a balanced tree in a fixed order (shorter dependency chain than a loop). */
    private static float treeSum(float[] lanes, int at) {
        for (int w = FLOATS / 2; w >= 1; w /= 2) {
            for (int i = 0; i < w; i++) lanes[at + i] += lanes[at + i + w];
        }
        return lanes[at];
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
