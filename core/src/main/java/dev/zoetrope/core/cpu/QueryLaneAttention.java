package dev.zoetrope.core.cpu;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Parallel;
import dev.zoetrope.core.Tensor;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static dev.zoetrope.core.cpu.Kernels.F;
import static dev.zoetrope.core.cpu.Kernels.F32;
import static dev.zoetrope.core.cpu.Kernels.FLOATS;

/**
 * Attention without mask or causality (every diffusion and vision-encoder attention), computed transposed: the
 * query rows of a task lie in the vector lanes. Per task (one head, up to {@value #ROWS} query rows) and block of
 * up to {@value #KEYS} keys, {@code Sᵀ = K·Qᵀ}, then the online softmax runs down the key axis, where the row
 * maximum, the exponentials and the row sums are plain lane-wise vector operations (no horizontal reductions),
 * then {@code Oᵀ += Vᵀ·Pᵀ}. Both products use register tiles of 4 broadcast values (4 keys, or 4 output columns)
 * × 2 vectors of query rows, like the GEMM micro-kernel, and the second one runs over the whole key block: the
 * row-major layout {@link Attention} uses instead leaves head sizes like 40 with short loops and a remainder of
 * single vectors, and spends a horizontal reduction per row and block.
 *
 * <p>Q is scaled and transposed per task; K is packed once per call in groups of 4 keys ([D][4] per group, keys
 * past Lk zero and excluded from the softmax), V as rows padded to a multiple of 4 columns, both widened to F32.
 * Task boundaries depend only on the problem size, so results do not depend on the thread count.
 */
final class QueryLaneAttention {
    private QueryLaneAttention() {
    }

    /** Query rows per task. */
    static final int ROWS = 64;
    /** Keys per softmax block. */
    static final int KEYS = 64;
    /** Keys per K group, output columns per V group: the broadcast side of the register tiles. */
    static final int GROUP = 4;
    /** Query rows per register tile: two vectors (16 on the scalar path, which mirrors the structure). */
    static final int LANES = Kernels.VECTOR ? 2 * FLOATS : 16;

    /** Whether this kernel handles a call: no mask, not causal, enough queries, packs that fit in arrays. */
    static boolean applies(Tensor mask, boolean causal, int b, int hk, int lq, int lk, int d, int dv) {
        if (mask != null || causal || lq < Attention.FEW_QUERIES) return false;
        long keys = (long) b * hk * Kernels.roundUp(lk, GROUP);
        return keys * d < Integer.MAX_VALUE && keys * Kernels.roundUp(dv, GROUP) < Integer.MAX_VALUE;
    }

    /** Packed K and V, kept by the calling thread across calls (workers only read them). */
    private static final class Packs {
        float[] keys = new float[0], values = new float[0];
    }

    private static final ThreadLocal<Packs> PACKS = ThreadLocal.withInitial(Packs::new);

    /** out[b, h, lq, dv] = softmax(q·kᵀ·scale)·v for q[B, H, Lq, D], k[B, Hk, Lk, D], v[B, Hk, Lk, Dv] (H = g·Hk). */
    static void attention(Tensor q, Tensor k, Tensor v, Tensor out, float scale) {
        int b = q.dim(0), h = q.dim(1), lq = q.dim(2), d = q.dim(3);
        int hk = k.dim(1), lk = k.dim(2), dv = v.dim(3);
        int groups = (lk + GROUP - 1) / GROUP, dvp = Kernels.roundUp(dv, GROUP);
        Packs packs = PACKS.get();
        int kSize = b * hk * groups * GROUP * d, vSize = b * hk * lk * dvp;   // fits an int: see applies()
        if (packs.keys.length < kSize) packs.keys = new float[kSize];
        if (packs.values.length < vSize) packs.values = new float[vSize];
        float[] kp = packs.keys, vp = packs.values;
        // kp[((bh·groups + g)·D + t)·4 + i] = K[bh, 4g + i, t]; vp[((bh·dvp/4 + cg)·Lk + j)·4 + i] = V[bh, j, 4cg + i]
        Parallel.forEach(b * hk, bh -> {
            float[] row = new float[Math.max(d, dvp)];
            int bi = bh / hk, hi = bh % hk;
            int base = bh * groups * GROUP * d, vBase = bh * lk * dvp;
            Arrays.fill(kp, base, base + groups * GROUP * d, 0f);
            for (int j = 0; j < lk; j++) {
                Attention.readRow(k, bi, hi, j, row, 0, d);
                int at = base + (j / GROUP) * GROUP * d + j % GROUP;
                for (int t = 0; t < d; t++) kp[at + t * GROUP] = row[t];
                Attention.readRow(v, bi, hi, j, row, 0, dv);
                Arrays.fill(row, dv, dvp, 0f);
                for (int c = 0; c < dvp; c++) vp[vBase + ((c / GROUP) * lk + j) * GROUP + c % GROUP] = row[c];
            }
        });
        int queryBlocks = (lq + ROWS - 1) / ROWS;
        // Group tiny tasks (short sequences, many heads) so each chunk has some 10⁵ flops.
        long flopsPerTask = 2L * Math.min(ROWS, lq) * lk * (d + dv);
        long grain = Math.max(1, (1L << 18) / Math.max(1, flopsPerTask));
        Parallel.forRange((long) b * h * queryBlocks, grain, (t0, t1) -> {
            Scratch sc = SCRATCH.get().fit(d, dvp);
            for (long task = t0; task < t1; task++) {
                int bh = (int) (task / queryBlocks), qb = (int) (task % queryBlocks);
                int bi = bh / h, hi = bh % h, kvHead = bi * hk + hi / (h / hk);
                int i0 = qb * ROWS, rows = Math.min(ROWS, lq - i0);
                queryBlock(q, bi, hi, i0, rows, kp, kvHead * groups * GROUP * d, vp, kvHead * lk * dvp, lk, d, dv, dvp,
                        scale, out, sc);
            }
        });
    }

    /** Per-worker tiles: Qᵀ [D][ROWS], Sᵀ/Pᵀ [KEYS][ROWS], Oᵀ [dvp][ROWS], row statistics. */
    private static final class Scratch {
        float[] qT = new float[0], sT = new float[KEYS * ROWS], oT = new float[0], row = new float[0];
        final float[] rowMax = new float[ROWS], rowSum = new float[ROWS], blockMax = new float[ROWS],
                alpha = new float[ROWS], blockSum = new float[ROWS];

        Scratch fit(int d, int dvp) {
            if (qT.length < d * ROWS) qT = new float[d * ROWS];
            if (oT.length < dvp * ROWS) oT = new float[dvp * ROWS];
            if (row.length < Math.max(d, dvp)) row = new float[Math.max(d, dvp)];
            return this;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private static void queryBlock(Tensor q, int bi, int hi, int i0, int rows, float[] kp, int kBase, float[] vp, int vBase,
                                   int lk, int d, int dv, int dvp, float scale, Tensor out, Scratch sc) {
        // Rows of Qᵀ, Sᵀ and Oᵀ are ROWS apart whatever the block's row count (a constant stride keeps the kernels'
        // index arithmetic simple); only the first rp lanes (whole tiles) are computed.
        int rp = Kernels.roundUp(rows, LANES);
        final int w = ROWS;
        float[] qT = sc.qT, sT = sc.sT, oT = sc.oT, row = sc.row;
        // Qᵀ[t][r] = q[r][t]·scale, rows past the block zero
        for (int r = 0; r < rows; r++) {
            Attention.readRow(q, bi, hi, i0 + r, row, 0, d);
            for (int t = 0; t < d; t++) qT[t * w + r] = row[t] * scale;
        }
        for (int t = 0; t < d; t++) Arrays.fill(qT, t * w + rows, t * w + rp, 0f);
        Arrays.fill(oT, 0, dvp * w, 0f);
        Arrays.fill(sc.rowMax, 0, rp, Float.NEGATIVE_INFINITY);
        Arrays.fill(sc.rowSum, 0, rp, 0f);
        for (int j0 = 0; j0 < lk; j0 += KEYS) {
            int n = Math.min(KEYS, lk - j0);
            // Sᵀ[j][r] = Σ_t K[j0 + j][t]·Qᵀ[t][r]
            for (int g = 0; g < n; g += GROUP) {
                int kAt = kBase + (j0 + g) * d;   // group (j0 + g) / 4 starts at ((j0 + g) / 4)·4·D
                for (int r0 = 0; r0 < rp; r0 += LANES) tile(kp, kAt, qT, r0, d, sT, g * w + r0, false);
            }
            softmaxStep(sT, n, rp, dvp, sc);
            // Oᵀ[c][r] += Σ_j V[j0 + j][c]·Pᵀ[j][r]
            for (int c = 0; c < dvp; c += GROUP) {
                int vAt = vBase + (c * lk + j0 * GROUP);    // column group c / 4 holds [Lk][4]
                for (int r0 = 0; r0 < rp; r0 += LANES) tile(vp, vAt, sT, r0, n, oT, c * w + r0, true);
            }
        }
        // out[r][c] = Oᵀ[c][r] / rowSum[r]
        MemorySegment os = out.segment();
        long outBase = out.offset() + bi * out.stride(0) + hi * out.stride(1) + (long) i0 * out.stride(2);
        for (int r = 0; r < rows; r++) {
            float inv = 1f / sc.rowSum[r];
            for (int c = 0; c < dv; c++) row[c] = oT[c * w + r] * inv;
            MemorySegment.copy(row, 0, os, F32, (outBase + (long) r * out.stride(2)) * Float.BYTES, dv);
        }
    }

    /**
     * One online-softmax step over the scores Sᵀ[0..n)[0..rp) of a key block (rows ROWS apart): new row maxima,
     * Pᵀ = e^(Sᵀ − max) written over the scores, row sums and the output Oᵀ rescaled by e^(oldMax − newMax).
     */
    private static void softmaxStep(float[] sT, int n, int rp, int dvp, Scratch sc) {
        float[] rowMax = sc.rowMax, blockMax = sc.blockMax, alpha = sc.alpha, rowSum = sc.rowSum, blockSum = sc.blockSum;
        columnMax(sT, n, rp, blockMax);
        boolean first = rowMax[0] == Float.NEGATIVE_INFINITY;   // every row sees every key: all rows start together
        for (int r = 0; r < rp; r++) {
            alpha[r] = rowMax[r];                               // becomes e^(oldMax − newMax) below
            rowMax[r] = Math.max(rowMax[r], blockMax[r]);
        }
        expShiftColumns(sT, n, ROWS, rp, rowMax, blockSum);
        if (first) {
            System.arraycopy(blockSum, 0, rowSum, 0, rp);
            return;
        }
        expShiftColumns(alpha, 1, ROWS, rp, rowMax, null);
        for (int r = 0; r < rp; r++) rowSum[r] = rowSum[r] * alpha[r] + blockSum[r];
        scaleColumns(sc.oT, dvp, rp, alpha);
    }

    /** max[l] = max_j a[j·ROWS + l] over j < n (n ≥ 1), l < width. */
    private static void columnMax(float[] a, int n, int width, float[] max) {
        if (Kernels.VECTOR) {
            VectorMath.columnMax(a, n, ROWS, width, max);
            return;
        }
        System.arraycopy(a, 0, max, 0, width);
        for (int j = 1; j < n; j++) {
            for (int l = 0; l < width; l++) max[l] = Math.max(max[l], a[j * ROWS + l]);
        }
    }

    /** a[j·stride + l] = e^(a[j·stride + l] − shift[l]) for j < n, l < width; sums[l] = Σ_j in ascending j (if not null). */
    private static void expShiftColumns(float[] a, int n, int stride, int width, float[] shift, float[] sums) {
        if (Kernels.VECTOR) {
            VectorMath.expShiftColumns(a, n, stride, width, shift, sums);
            return;
        }
        if (sums != null) Arrays.fill(sums, 0, width, 0f);
        for (int j = 0; j < n; j++) {
            for (int l = 0; l < width; l++) {
                float e = (float) Math.exp(a[j * stride + l] - shift[l]);
                a[j * stride + l] = e;
                if (sums != null) sums[l] += e;
            }
        }
    }

    /** a[j·ROWS + l] ·= scale[l] for j < n, l < width. */
    private static void scaleColumns(float[] a, int n, int width, float[] scale) {
        if (Kernels.VECTOR) {
            VectorMath.scaleColumns(a, n, ROWS, width, scale);
            return;
        }
        for (int j = 0; j < n; j++) {
            for (int l = 0; l < width; l++) a[j * ROWS + l] *= scale[l];
        }
    }

    /**
     * The one register tile of both products: out[at + i·ROWS + l] = (accumulate ? out[…] : 0) + Σ_{j < n}
     * panel[pAt + j·4 + i]·lanes[j·ROWS + r0 + l] for 4 columns i and LANES rows l, j ascending. Scores: panel = the
     * packed keys, lanes = Qᵀ, n = head dim; values: panel = the packed values, lanes = Pᵀ, n = keys of the block.
     */
    private static void tile(float[] panel, int pAt, float[] lanes, int r0, int n, float[] out, int at, boolean accumulate) {
        if (!Kernels.VECTOR) {
            for (int i = 0; i < GROUP; i++) {
                for (int l = 0; l < LANES; l++) {
                    float acc = accumulate ? out[at + i * ROWS + l] : 0f;
                    for (int j = 0; j < n; j++) acc += panel[pAt + j * GROUP + i] * lanes[j * ROWS + r0 + l];
                    out[at + i * ROWS + l] = acc;
                }
            }
            return;
        }
        FloatVector a0, b0, a1, b1, a2, b2, a3, b3;
        if (accumulate) {
            a0 = FloatVector.fromArray(F, out, at);
            b0 = FloatVector.fromArray(F, out, at + FLOATS);
            a1 = FloatVector.fromArray(F, out, at + ROWS);
            b1 = FloatVector.fromArray(F, out, at + ROWS + FLOATS);
            a2 = FloatVector.fromArray(F, out, at + 2 * ROWS);
            b2 = FloatVector.fromArray(F, out, at + 2 * ROWS + FLOATS);
            a3 = FloatVector.fromArray(F, out, at + 3 * ROWS);
            b3 = FloatVector.fromArray(F, out, at + 3 * ROWS + FLOATS);
        } else {
            a0 = b0 = a1 = b1 = a2 = b2 = a3 = b3 = FloatVector.zero(F);
        }
        for (int j = 0; j < n; j++) {
            int li = j * ROWS + r0, pi = pAt + j * GROUP;
            FloatVector x = FloatVector.fromArray(F, lanes, li), y = FloatVector.fromArray(F, lanes, li + FLOATS);
            FloatVector p = FloatVector.broadcast(F, panel[pi]);
            a0 = p.fma(x, a0);
            b0 = p.fma(y, b0);
            p = FloatVector.broadcast(F, panel[pi + 1]);
            a1 = p.fma(x, a1);
            b1 = p.fma(y, b1);
            p = FloatVector.broadcast(F, panel[pi + 2]);
            a2 = p.fma(x, a2);
            b2 = p.fma(y, b2);
            p = FloatVector.broadcast(F, panel[pi + 3]);
            a3 = p.fma(x, a3);
            b3 = p.fma(y, b3);
        }
        a0.intoArray(out, at);
        b0.intoArray(out, at + FLOATS);
        a1.intoArray(out, at + ROWS);
        b1.intoArray(out, at + ROWS + FLOATS);
        a2.intoArray(out, at + 2 * ROWS);
        b2.intoArray(out, at + 2 * ROWS + FLOATS);
        a3.intoArray(out, at + 3 * ROWS);
        b3.intoArray(out, at + 3 * ROWS + FLOATS);
    }
}
