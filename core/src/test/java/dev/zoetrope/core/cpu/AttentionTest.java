package dev.zoetrope.core.cpu;

import dev.zoetrope.core.BufferPool;
import dev.zoetrope.core.DType;
import dev.zoetrope.core.Ops;
import dev.zoetrope.core.Parallel;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.Random;

import static dev.zoetrope.core.cpu.TestData.assertNear;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tiled attention against the textbook softmax(q·kᵀ·scale + mask)·v in double. Sizes straddle the
 * kernels' block sizes ({@link Attention#BLOCK_Q} queries, {@link Attention#BLOCK_K} keys for masked or causal
 * attention; {@link QueryLaneAttention#ROWS} queries, {@link QueryLaneAttention#KEYS} keys and groups of
 * {@link QueryLaneAttention#GROUP} keys or columns without), their register blocks and the switch to the
 * unpacked path below {@link Attention#FEW_QUERIES} query rows.
 */
class AttentionTest {
    private Scope scope;
    private final Random rnd = new Random(7);

    @BeforeEach
    void open() {
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    /** Reference for rows [rowStart, rowEnd) of every (b, h); mask may be null (broadcast by strides). */
    static double[] reference(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal, double scale, int rowStart, int rowEnd) {
        int b = q.dim(0), h = q.dim(1), lq = q.dim(2), d = q.dim(3), hk = k.dim(1), lk = k.dim(2), dv = v.dim(3);
        double[] qd = q.toDoubleArray(), kd = k.toDoubleArray(), vd = v.toDoubleArray();
        Tensor m = mask == null ? null : mask.to(DType.F32).expand(b, h, lq, lk).contiguous();
        double[] md = m == null ? null : m.toDoubleArray();
        int rows = rowEnd - rowStart;
        double[] out = new double[b * h * rows * dv];
        double[] s = new double[lk];
        for (int bi = 0; bi < b; bi++) {
            for (int hi = 0; hi < h; hi++) {
                int kh = hi / (h / hk);
                for (int i = rowStart; i < rowEnd; i++) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < lk; j++) {
                        if (causal && j > i + lk - lq) {
                            s[j] = Double.NEGATIVE_INFINITY;
                            continue;
                        }
                        double dot = 0;
                        for (int t = 0; t < d; t++) {
                            dot += qd[((bi * h + hi) * lq + i) * d + t] * kd[((bi * hk + kh) * lk + j) * d + t];
                        }
                        s[j] = dot * scale + (md == null ? 0 : md[((bi * h + hi) * lq + i) * lk + j]);
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < lk; j++) {
                        s[j] = max == Double.NEGATIVE_INFINITY ? 0 : Math.exp(s[j] - max);
                        sum += s[j];
                    }
                    int o = ((bi * h + hi) * rows + (i - rowStart)) * dv;
                    for (int j = 0; j < lk; j++) {
                        if (s[j] == 0) continue;
                        for (int c = 0; c < dv; c++) out[o + c] += s[j] / sum * vd[((bi * hk + kh) * lk + j) * dv + c];
                    }
                }
            }
        }
        return out;
    }

    private void check(String what, int b, int h, int hk, int lq, int lk, int d, int dv, Tensor mask, boolean causal) {
        Tensor q = TestData.random(rnd, 1.5f, b, h, lq, d);
        Tensor k = TestData.random(rnd, 1.5f, b, hk, lk, d);
        Tensor v = TestData.random(rnd, 1f, b, hk, lk, dv);
        float scale = (float) (1 / Math.sqrt(d));
        double[] ref = reference(q, k, v, mask, causal, scale, 0, lq);
        int[] shape = {b, h, lq, dv};
        assertNear(what, Ops.attention(q, k, v, mask, causal, scale), shape, ref);
        // strided views as models produce them: [B, L, H, D] projections permuted to [B, H, L, D]
        Tensor qs = q.permute(0, 2, 1, 3).contiguous().permute(0, 2, 1, 3);
        Tensor ks = TestData.slicedLayout(k);
        Tensor vs = TestData.transposedLayout(v);
        assertNear(what + " (strided q, k, v)", Ops.attention(qs, ks, vs, mask, causal, scale), shape, ref);
    }

    /** Unmasked, non-causal attention with enough queries takes the query-lane kernel; the rest the row kernels. */
    @Test
    void kernelChoice() {
        assertTrue(QueryLaneAttention.applies(null, false, 2, 3, 67, 301, 40, 40));
        assertTrue(!QueryLaneAttention.applies(null, true, 2, 3, 67, 301, 40, 40));
        assertTrue(!QueryLaneAttention.applies(Tensor.zeros(DType.F32, 1, 1, 1, 301), false, 2, 3, 67, 301, 40, 40));
        assertTrue(!QueryLaneAttention.applies(null, false, 2, 3, Attention.FEW_QUERIES - 1, 301, 40, 40));
    }

    @Test
    void matchesReferenceAcrossBlockBoundaries() {
        check("tiny", 1, 1, 1, 1, 1, 8, 8, null, false);
        check("odd sizes", 2, 3, 3, 67, 301, 40, 40, null, false);
        check("few queries", 1, 2, 2, 7, 9, 40, 40, null, false);
        check("head dim 16", 1, 2, 2, 130, 257, 16, 16, null, false);
        check("head dim 64, Dv 24", 1, 2, 2, 5, 77, 64, 24, null, false);
        check("head dim 3", 1, 1, 1, 9, 10, 3, 5, null, false);
        check("VAE mid-block: one head of 512", 1, 1, 1, 70, 90, 512, 512, null, false);
    }

    @Test
    void additiveMaskBroadcasts() {
        int b = 2, h = 2, lq = 70, lk = 45;
        // padding mask [B, 1, 1, Lk] as transformers builds it (finfo.min for padded keys)
        float[] pad = new float[b * lk];
        for (int j = 40; j < lk; j++) pad[lk + j] = -3.4028235e38f;
        check("padding mask", b, h, h, lq, lk, 32, 32, Tensor.of(pad, b, 1, 1, lk), false);
        // full additive bias [1, H, Lq, Lk] (e.g. relative position bias), and -inf entries
        Tensor bias = TestData.random(rnd, 2f, 1, h, lq, lk);
        bias.setFloat(Float.NEGATIVE_INFINITY, 0, 1, 3, 7);
        check("bias mask", b, h, h, lq, lk, 24, 24, bias, false);
        check("bf16 mask", b, h, h, lq, lk, 24, 24, bias.to(DType.BF16), false);
    }

    @Test
    void causalAlignsQueriesToTheEndOfTheKeys() {
        check("causal square", 1, 2, 2, 150, 150, 16, 16, null, true);
        check("causal KV cache (Lq < Lk)", 2, 2, 2, 37, 600, 16, 16, null, true);
        check("causal decode step", 1, 4, 4, 1, 300, 64, 64, null, true);
        check("causal with mask", 1, 1, 1, 20, 30, 8, 8, TestData.random(rnd, 1f, 1, 1, 20, 30), true);
    }

    @Test
    void groupedKeyValueHeads() {
        check("GQA 14/2 (Qwen2)", 1, 14, 2, 9, 33, 64, 64, null, false);
        check("GQA causal", 2, 4, 2, 21, 21, 16, 16, null, true);
        check("MQA", 1, 6, 1, 3, 140, 16, 8, null, true);
    }

    /** Fewer than 8 query rows take the unpacked path, which splits long key ranges into chunks merged in order. */
    @Test
    void fewQueriesOverSeveralKeyChunks() {
        int lk = 2 * Attention.KEY_CHUNK + 77;
        check("decode, 3 chunks, GQA", 2, 6, 2, 1, lk, 64, 64, null, true);
        check("speculative rows, mask", 1, 4, 2, 5, lk, 24, 20, TestData.random(rnd, 2f, 1, 4, 5, lk), true);
        float[] pad = new float[lk];
        java.util.Arrays.fill(pad, 0, Attention.KEY_CHUNK + 3, Float.NEGATIVE_INFINITY); // whole first chunk masked
        check("masked chunk", 1, 2, 1, 2, lk, 16, 16, Tensor.of(pad, 1, 1, 1, lk), false);
    }

    @Test
    void halfPrecisionKeysAndValues() {
        Tensor q = TestData.random(rnd, 1f, 1, 2, 17, 32);
        Tensor k = TestData.random(rnd, 1f, 1, 2, 50, 32).to(DType.F16);
        Tensor v = TestData.random(rnd, 1f, 1, 2, 50, 32).to(DType.BF16);
        double[] ref = reference(q, k, v, null, false, 0.2, 0, 17);
        assertNear("f16 k, bf16 v", Ops.attention(q, k, v, null, false, 0.2f), new int[] {1, 2, 17, 32}, ref);
    }

    @Test
    void rowsWithoutVisibleKeysAreZero() {
        // causal with Lq > Lk: the first queries see no key; a fully −∞ masked row likewise gives 0 (torch: NaN)
        Tensor q = TestData.random(rnd, 1f, 1, 1, 6, 8), k = TestData.random(rnd, 1f, 1, 1, 4, 8), v = TestData.random(rnd, 1f, 1, 1, 4, 8);
        float[] out = Ops.attention(q, k, v, null, true, 0.3f).toFloatArray();
        for (int c = 0; c < 16; c++) assertEquals(0f, out[c], "rows 0 and 1 see no key");
        double[] ref = reference(q, k, v, null, true, 0.3, 2, 6);
        float[] tail = java.util.Arrays.copyOfRange(out, 16, 48);
        TestData.assertNear("visible rows", tail, ref);
        float[] mask = new float[6 * 4];
        java.util.Arrays.fill(mask, 0, 4, Float.NEGATIVE_INFINITY);
        float[] masked = Ops.attention(q, k, v, Tensor.of(mask, 1, 1, 6, 4), false, 0.3f).toFloatArray();
        for (int c = 0; c < 8; c++) assertEquals(0f, masked[c]);
    }

    /**
     * 2048 tokens: checks sampled rows against the reference and that the call never holds anything
     * quadratic: pooled memory stays within a small multiple of q+k+v+out and the calling thread (all work
     * inline with one thread) allocates far less heap than one L×L score matrix. The heap figure is checked
     * on the scalar run: tiling, packing and scratch are shared by both paths, while on the vector run code
     * the JIT has not compiled yet boxes vectors on the heap, which would make the count depend on timing.
     */
    @Test
    void longSequenceStaysLinearInMemory() {
        int l = 2048, d = 16;
        Tensor q = TestData.random(rnd, 1f, 1, 1, l, d), k = TestData.random(rnd, 1f, 1, 1, l, d), v = TestData.random(rnd, 1f, 1, 1, l, d);
        long inputs = 4L * 4 * l * d; // q, k, v, out in bytes
        long scoreMatrix = 4L * l * l;
        int saved = Parallel.threads();
        Parallel.setThreads(1);
        try {
            Ops.attention(q, k, v, null, false, 0.25f).close(); // warm-up: scratch tiles are allocated once per thread
            BufferPool.SHARED.resetPeak();
            long pooledBefore = BufferPool.SHARED.liveBytes();
            com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long heapBefore = threads.getCurrentThreadAllocatedBytes();
            Tensor out = Ops.attention(q, k, v, null, false, 0.25f);
            long heap = threads.getCurrentThreadAllocatedBytes() - heapBefore;
            long pooled = BufferPool.SHARED.peakBytes() - pooledBefore;
            assertTrue(pooled <= 4 * inputs, "pooled memory " + pooled + " bytes for inputs of " + inputs);
            if (!Kernels.VECTOR) {
                assertTrue(heap < scoreMatrix / 16, "heap allocated " + heap + " bytes; one score matrix is " + scoreMatrix);
            }
            double[] ref = reference(q, k, v, null, false, 0.25, l - 70, l);
            float[] got = java.util.Arrays.copyOfRange(out.toFloatArray(), (l - 70) * d, l * d);
            TestData.assertNear("long sequence, last 70 rows", got, ref);
            ref = reference(q, k, v, null, false, 0.25, 0, 5);
            TestData.assertNear("long sequence, first rows", java.util.Arrays.copyOfRange(out.toFloatArray(), 0, 5 * d), ref);
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void defaultScaleIsInverseSqrtOfHeadDim() {
        Tensor q = TestData.random(rnd, 1f, 1, 2, 5, 20), k = TestData.random(rnd, 1f, 1, 2, 7, 20), v = TestData.random(rnd, 1f, 1, 2, 7, 20);
        double[] ref = reference(q, k, v, null, false, 1 / Math.sqrt(20), 0, 5);
        assertNear("default scale", Ops.attention(q, k, v), new int[] {1, 2, 5, 20}, ref);
    }

    @Test
    void badShapesAreReported() {
        Tensor q = Tensor.zeros(DType.F32, 1, 3, 4, 8), k = Tensor.zeros(DType.F32, 1, 2, 4, 8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ops.attention(q, k, k));
        assertTrue(e.getMessage().contains("multiple of Hk") && e.getMessage().contains("[1, 3, 4, 8]"), e.getMessage());
        Tensor k2 = Tensor.zeros(DType.F32, 1, 3, 4, 8);
        e = assertThrows(IllegalArgumentException.class,
                () -> Ops.attention(q, k2, k2, Tensor.zeros(DType.F32, 2, 1, 1, 4), false, 1f));
        assertTrue(e.getMessage().contains("mask"), e.getMessage());
        assertArrayEquals(new int[] {1, 3, 4, 8}, Ops.attention(q, Tensor.zeros(DType.F32, 1, 3, 0, 8),
                Tensor.zeros(DType.F32, 1, 3, 0, 8)).shape());
    }
}
