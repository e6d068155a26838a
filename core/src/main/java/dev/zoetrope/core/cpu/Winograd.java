package dev.zoetrope.core.cpu;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Parallel;
import dev.zoetrope.core.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static dev.zoetrope.core.cpu.Kernels.F;
import static dev.zoetrope.core.cpu.Kernels.F32;
import static dev.zoetrope.core.cpu.Kernels.FLOATS;
import static dev.zoetrope.core.cpu.Kernels.ORDER;

/**
 * 3×3 stride-1 convolutions by Winograd's minimal filtering F(4×4, 3×3) (Lavin &amp; Gray, "Fast Algorithms for
 * Convolutional Neural Networks"): each 4×4 block of outputs ("tile") is computed from a 6×6 block of inputs as
 * {@code Y = Aᵀ[ Σ_c (G g_c Gᵀ) ⊙ (Bᵀ d_c B) ]A}, so the channel sums become 36 independent GEMMs
 * {@code M_ξ[O × T] = U_ξ[O × C] · V_ξ[C × T]} (ξ one of the 36 transform positions, T the tiles) with 36 instead
 * of 144 multiply-adds per tile and channel pair: 4× fewer than the direct convolution.
 *
 * <p>The transforms use the interpolation points 0, ±3/2, ±2/3 (and ∞) rather than the usual 0, ±1, ±2: in float
 * they measured 3-4× closer to an exact convolution (within ~5× of the direct float32 convolution's own error), as
 * Barabasz et al. ("Error analysis and improving the accuracy of Winograd convolution") propose. The filter
 * transform is computed in double. Every tile and channel is transformed by fixed code and the GEMMs' results do
 * not depend on the thread count, so neither do the outputs.
 *
 * <p>Layouts: the input transform vectorises over 8 tiles of a tile row. Tiles start every 4 columns, so each input
 * row is first split by column phase (column 4s + q goes to phase q, position s): a tile's 6 taps are then phases
 * 0-3 at s and phases 0-1 at s + 1, and 8 consecutive tiles read each tap as one vector. The output transform
 * writes its 4 output columns per tile back through the same phase split. Tiles are processed in chunks of tile
 * rows, so the transformed input and the GEMM results (each 36/16 of the input or output) stay bounded.
 */
final class Winograd {
    private Winograd() {
    }

    /** Output tile size, transformed tile size. */
    static final int TILE = 4, ALPHA = 6;
    private static final int POSITIONS = ALPHA * ALPHA;

    /** {@code -Dzoetrope.winograd=false} sends every convolution through im2col GEMM. */
    static final boolean ENABLED = !"false".equalsIgnoreCase(System.getProperty("zoetrope.winograd"));

    /** Filter transform G (6×3) for the points 0, 3/2, −3/2, 2/3, −2/3, ∞. */
    static final double[][] G = {
            {1, 0, 0},
            {8 / 65.0, 12 / 65.0, 18 / 65.0},
            {8 / 65.0, -12 / 65.0, 18 / 65.0},
            {-81 / 130.0, -27 / 65.0, -18 / 65.0},
            {-81 / 130.0, 27 / 65.0, -18 / 65.0},
            {0, 0, 1}};
    /** Input transform Bᵀ (6×6). */
    static final float[][] BT = {
            {1, 0, -97 / 36f, 0, 1, 0},
            {0, -2 / 3f, -4 / 9f, 3 / 2f, 1, 0},
            {0, 2 / 3f, -4 / 9f, -3 / 2f, 1, 0},
            {0, -3 / 2f, -9 / 4f, 2 / 3f, 1, 0},
            {0, 3 / 2f, -9 / 4f, -2 / 3f, 1, 0},
            {0, 1, 0, -97 / 36f, 0, 1}};
    /** Output transform Aᵀ (4×6). */
    static final float[][] AT = {
            {1, 1, 1, 1, 1, 0},
            {0, 3 / 2f, -3 / 2f, 2 / 3f, -2 / 3f, 0},
            {0, 9 / 4f, 9 / 4f, 4 / 9f, 4 / 9f, 0},
            {0, 27 / 8f, -27 / 8f, 8 / 27f, -8 / 27f, 1}};

    /** Fewest tiles per image for which the transforms pay off (smaller maps take the im2col GEMM). */
    static final int MIN_TILES = 16;
    /** Floats of transformed input plus GEMM results per chunk of tile rows: 16 MiB (unless MIN_CHUNK_TILES needs more). */
    private static final long CHUNK_FLOATS = 4L << 20;
    /** Fewest tiles per chunk: each GEMM streams its U_ξ once per chunk. */
    private static final int MIN_CHUNK_TILES = 512;

    /** Fewest tiles in a call for which transforming the filters on every call pays off. */
    static final int MIN_TILES_UNCACHED = 256;
    private static final String KIND = "winograd F(4x4,3x3)";

    /** Whether a conv2d with these arguments can be computed here (see {@link #filters} for whether it pays). */
    static boolean applies(int c, int o, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int groups,
                           int oh, int ow) {
        if (!ENABLED || kh != 3 || kw != 3 || sh != 1 || sw != 1 || dh != 1 || dw != 1 || groups != 1) return false;
        if (ph > 2 || pw > 2 || c < 8 || o < 8) return false;
        long tiles = (long) ceilDiv(oh, TILE) * ceilDiv(ow, TILE);
        return tiles >= MIN_TILES;
    }

    /**
     * The transformed filters of {@code weight} [O, C, 3, 3]: from the {@link WeightCache}, or made now when they can
     * be cached or when the call has enough tiles for a per-call transform to pay; null when the im2col GEMM is the
     * better choice.
     */
    static Transformed filters(Tensor weight, long tiles) {
        Transformed cached = WeightCache.get(weight, KIND, Transformed.class);
        if (cached != null) return cached;
        long bytes = (long) POSITIONS * weight.dim(0) * weight.dim(1) * Float.BYTES;
        cached = WeightCache.admit(weight, KIND, Transformed.class, bytes, memory -> transformWeights(weight, memory));
        if (cached != null) return cached;
        return tiles >= MIN_TILES_UNCACHED ? transformWeights(weight, null) : null;
    }

    /** Tiles of a call: images × tile rows × tile columns. */
    static long tiles(int n, int oh, int ow) {
        return (long) n * ceilDiv(oh, TILE) * ceilDiv(ow, TILE);
    }

    /**
     * out[N, O, OH, OW] = conv2d(x, weight, bias, stride 1, padding (ph, pw)) for x[N, C, H, W] contiguous F32 and
     * the transformed filters u of a weight [O, C, 3, 3].
     */
    static void conv2d(Tensor x, Transformed u, float[] bias, int ph, int pw, Tensor out) {
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3), o = u.o();
        int oh = out.dim(2), ow = out.dim(3);
        Geometry geo = new Geometry(n, c, h, w, o, oh, ow, ph, pw);
        // Chunks of whole tile rows: transformed input (36·C per tile) and GEMM results (36·O per tile) within
        // CHUNK_FLOATS, but at least MIN_CHUNK_TILES tiles, so that the GEMMs read each U_ξ for many tiles.
        int tileRows = n * geo.tilesY;
        long perRow = (long) POSITIONS * (c + o) * geo.tilesX;
        long rowsPerChunk0 = Math.max(CHUNK_FLOATS / perRow, ceilDiv(MIN_CHUNK_TILES, geo.tilesX));
        int rowsPerChunk = (int) Math.min(rowsPerChunk0, tileRows);
        // V[ch][ξ][t] and M[oc][ξ][t]: a channel's 36 rows are contiguous, so each transform task streams one block.
        int stride = rowsPerChunk * geo.tilesX + FLOATS;   // row length: slack for whole-vector stores
        Tensor v = Tensor.empty(DType.F32, c, POSITIONS, stride);
        Tensor m = Tensor.empty(DType.F32, o, POSITIONS, stride);
        try {
            for (int r0 = 0; r0 < tileRows; r0 += rowsPerChunk) {
                int rows = Math.min(rowsPerChunk, tileRows - r0), first = r0;
                int tiles = rows * geo.tilesX;
                Parallel.forEach(c, ch -> transformInput(x, geo, ch, first, rows, v.segment(), stride));
                multiply(u, v.segment(), m.segment(), o, c, tiles, stride);
                Parallel.forEach(o, oc -> transformOutput(m.segment(), stride, geo, oc, first, rows,
                        bias == null ? 0f : bias[oc], out.segment()));
            }
        } finally {
            v.close();
            m.close();
        }
    }

    /** Sizes of one convolution: the tile grid covers the output, tile (ty, tx) reads input rows from 4ty − ph. */
    record Geometry(int n, int c, int h, int w, int o, int oh, int ow, int ph, int pw, int tilesY, int tilesX,
                    int phaseLength) {
        Geometry(int n, int c, int h, int w, int o, int oh, int ow, int ph, int pw) {
            this(n, c, h, w, o, oh, ow, ph, pw, ceilDiv(oh, TILE), ceilDiv(ow, TILE),
                    // positions per phase: tiles + 1 (the last tile's taps 4 and 5), rounded to whole vectors
                    Kernels.roundUp(ceilDiv(ow, TILE) + 1, FLOATS));
        }
    }

    // ---------------------------------------------------------------- weights

    /**
     * U[ξ][o][c] = (G g[o][c] Gᵀ)[ξ] as F32, row-major [36][O][C]; {@code perCall} is the tensor holding them when
     * they were made for one call (to be closed after it), null when the cache owns them.
     */
    record Transformed(MemorySegment segment, int o, int c, Tensor perCall) {
        /** Releases per-call filters at once (cached ones stay). */
        void release() {
            if (perCall != null) perCall.close();
        }
    }

    /** The transformed filters of weight [O, C, 3, 3] in {@code memory}, or in a tensor of the current scope if null. */
    static Transformed transformWeights(Tensor weight, MemorySegment memory) {
        int o = weight.dim(0), c = weight.dim(1);
        Tensor wc = weight.isContiguous() ? weight : weight.contiguous();
        MemorySegment src = wc.segment();
        DType type = wc.dtype();
        long base = wc.offset();
        Tensor perCall = memory == null ? Tensor.empty(DType.F32, POSITIONS, o, c) : null;
        MemorySegment u = memory != null ? memory : perCall.segment();
        Parallel.forEach(o, oc -> {
            double[] g = new double[9], gg = new double[ALPHA * 3];
            for (int ch = 0; ch < c; ch++) {
                long at = base + ((long) oc * c + ch) * 9;
                for (int i = 0; i < 9; i++) g[i] = Kernels.load(src, type, at + i);
                // gg = G g (6×3), then U = gg Gᵀ (6×6)
                for (int k = 0; k < ALPHA; k++) {
                    for (int b = 0; b < 3; b++) gg[k * 3 + b] = G[k][0] * g[b] + G[k][1] * g[3 + b] + G[k][2] * g[6 + b];
                }
                for (int k = 0; k < ALPHA; k++) {
                    for (int l = 0; l < ALPHA; l++) {
                        double value = gg[k * 3] * G[l][0] + gg[k * 3 + 1] * G[l][1] + gg[k * 3 + 2] * G[l][2];
                        u.setAtIndex(F32, ((long) (k * ALPHA + l) * o + oc) * c + ch, (float) value);
                    }
                }
            }
        });
        if (wc != weight) wc.close();
        return new Transformed(u, o, c, perCall);
    }

    // ---------------------------------------------------------------- GEMMs

    /** M_ξ[O × tiles] = U_ξ[O × C] · V_ξ[C × tiles] for the 36 positions. */
    private static void multiply(Transformed u, MemorySegment v, MemorySegment m, int o, int c, int tiles, int stride) {
        java.util.function.IntConsumer one = xi -> Gemm.gemm(o, tiles, c,
                u.segment(), DType.F32, (long) xi * o * c, c, 1,
                v, DType.F32, (long) xi * stride, (long) POSITIONS * stride, 1,
                m, (long) xi * stride, (long) POSITIONS * stride, null, null, false);
        // Few threads: one product per task balances well and keeps each product's operands in one core's caches.
        if (Parallel.threads() * 8 <= POSITIONS) {
            Parallel.forEach(POSITIONS, one);
        } else {
            for (int xi = 0; xi < POSITIONS; xi++) one.accept(xi);
        }
    }

    // ---------------------------------------------------------------- input transform

    /** Per-worker staging: phase-split input rows (a ring of 8), column-transformed rows, output rows. */
    private static final class Scratch {
        int length;
        float[] row = new float[0], ring = new float[0], columns = new float[0], outputs = new float[0];
        final long[] ringTag = new long[8];

        Scratch fit(int phaseLength) {
            if (length < phaseLength) {
                length = phaseLength;
                row = new float[4 * phaseLength];
                ring = new float[8 * 4 * phaseLength];
                columns = new float[ALPHA * 4 * phaseLength];
                outputs = new float[TILE * TILE * phaseLength];
            }
            Arrays.fill(ringTag, -1);
            return this;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    // Bᵀ and Aᵀ entries as the straight-line transforms use them
    private static final float B_DIAG = -97 / 36f, B_E1 = -4 / 9f, B_E2 = -9 / 4f, B_O = 3 / 2f, B_P = -2 / 3f;
    private static final float A_1 = 3 / 2f, A_1B = 2 / 3f, A_2 = 9 / 4f, A_2B = 4 / 9f, A_3 = 27 / 8f, A_3B = 8 / 27f;

    /**
     * V[ξ][ch][t] for the tiles of tile rows [first, first + rows) (t counted from the chunk's first tile): the 6
     * input rows of a tile row split by column phase (kept in a ring, as consecutive tile rows share 2 rows), the
     * column transform Bᵀ over the 6 rows at every phase position, then the row transform Bᵀ over each tile's taps.
     */
    private static void transformInput(Tensor x, Geometry g, int ch, int first, int rows, MemorySegment v, int stride) {
        int len = g.phaseLength, tilesX = g.tilesX;
        Scratch sc = SCRATCH.get().fit(len);
        float[] ring = sc.ring, col = sc.columns;
        int vecTiles = Kernels.VECTOR ? Kernels.roundUp(tilesX, FLOATS) : tilesX;
        int[] slot = new int[ALPHA];
        for (int r = 0; r < rows; r++) {
            int tileRow = first + r, img = tileRow / g.tilesY, ty = tileRow % g.tilesY;
            long plane = x.offset() + ((long) img * g.c + ch) * g.h * g.w;
            for (int i = 0; i < ALPHA; i++) {
                int y = ty * TILE - g.ph + i;
                slot[i] = (y & 7) * 4 * len;
                long tag = (long) img * (g.h + 8) + y + 4;
                if (sc.ringTag[y & 7] != tag) {
                    splitRow(x.segment(), plane, y, g, sc.row, ring, slot[i], len);
                    sc.ringTag[y & 7] = tag;
                }
            }
            // col[k][q][s] = Σ_i Bᵀ[k][i]·ring[row i][q][s]
            inputTransform(ring, slot, col, 4 * len);
            // V[k·6 + l][ch][t] = Σ_j Bᵀ[l][j]·col[k][j % 4][s + j / 4]
            long tileBase = (long) r * tilesX;
            for (int k = 0; k < ALPHA; k++) {
                tapTransform(col, k * 4 * len, len, vecTiles, v, ((long) ch * POSITIONS + k * ALPHA) * stride + tileBase,
                        stride);
            }
        }
    }

    /** ring[at + q·len + s] = x[y][4s + q − pw] (zero outside the image): a bulk copy, then the phase split. */
    private static void splitRow(MemorySegment xs, long plane, int y, Geometry g, float[] row, float[] ring, int at, int len) {
        int n = 4 * len;
        if (y < 0 || y >= g.h) {
            Arrays.fill(ring, at, at + n, 0f);
            return;
        }
        int copied = Math.min(g.w, n - g.pw);
        Arrays.fill(row, 0, g.pw, 0f);
        MemorySegment.copy(xs, F32, (plane + (long) y * g.w) * Float.BYTES, row, g.pw, copied);
        Arrays.fill(row, g.pw + copied, n, 0f);
        int s = 0;
        if (Kernels.VECTOR && FLOATS == 8) {
            // 32 values = 8 positions × 4 phases per step: pairs of vectors gathered by phase pairs, then by halves
            for (; s < len; s += 8) {
                FloatVector a = FloatVector.fromArray(F, row, 4 * s), b = FloatVector.fromArray(F, row, 4 * s + 8);
                FloatVector c = FloatVector.fromArray(F, row, 4 * s + 16), d = FloatVector.fromArray(F, row, 4 * s + 24);
                FloatVector ab01 = a.rearrange(PHASES_01, b), ab23 = a.rearrange(PHASES_23, b);
                FloatVector cd01 = c.rearrange(PHASES_01, d), cd23 = c.rearrange(PHASES_23, d);
                ab01.rearrange(LOW_HALVES, cd01).intoArray(ring, at + s);
                ab01.rearrange(HIGH_HALVES, cd01).intoArray(ring, at + len + s);
                ab23.rearrange(LOW_HALVES, cd23).intoArray(ring, at + 2 * len + s);
                ab23.rearrange(HIGH_HALVES, cd23).intoArray(ring, at + 3 * len + s);
            }
        }
        for (; s < len; s++) {
            ring[at + s] = row[4 * s];
            ring[at + len + s] = row[4 * s + 1];
            ring[at + 2 * len + s] = row[4 * s + 2];
            ring[at + 3 * len + s] = row[4 * s + 3];
        }
    }

    // Lane selections over two 8-lane vectors (lanes 8-15 = the second): phases 0 and 1 of both, phases 2 and 3 of
    // both (as [x0 x4 y0 y4 x1 x5 y1 y5]), then the low or high halves of two such vectors.
    private static final VectorShuffle<Float> PHASES_01 = shuffle(0, 4, 8, 12, 1, 5, 9, 13);
    private static final VectorShuffle<Float> PHASES_23 = shuffle(2, 6, 10, 14, 3, 7, 11, 15);
    private static final VectorShuffle<Float> LOW_HALVES = shuffle(0, 1, 2, 3, 8, 9, 10, 11);
    private static final VectorShuffle<Float> HIGH_HALVES = shuffle(4, 5, 6, 7, 12, 13, 14, 15);

    /** An 8-lane shuffle, or null where vectors have another width (the scalar split is used there). */
    private static VectorShuffle<Float> shuffle(int... lanes) {
        return FLOATS == 8 ? VectorShuffle.fromValues(F, lanes) : null;
    }

    /**
     * out[e + k·n] = (Bᵀ d)[k] for d = in[slot[0..5] + e], e in [0, n): Bᵀ's rows 1-2 and 3-4 are even ± odd parts of
     * the same terms.
     */
    private static void inputTransform(float[] in, int[] slot, float[] out, int n) {
        int i0 = slot[0], i1 = slot[1], i2 = slot[2], i3 = slot[3], i4 = slot[4], i5 = slot[5];
        if (Kernels.VECTOR) {
            for (int e = 0; e < n; e += FLOATS) {
                bt6(in, i0 + e, i1 + e, i2 + e, i3 + e, i4 + e, i5 + e, out, e, n);
            }
        } else {
            for (int e = 0; e < n; e++) {
                float d0 = in[i0 + e], d1 = in[i1 + e], d2 = in[i2 + e], d3 = in[i3 + e], d4 = in[i4 + e], d5 = in[i5 + e];
                out[e] = d2 * B_DIAG + (d0 + d4);
                float ev = d2 * B_E1 + d4, o = d1 * B_P + d3 * B_O;
                out[e + n] = ev + o;
                out[e + 2 * n] = ev - o;
                ev = d2 * B_E2 + d4;
                o = d3 * -B_P + d1 * -B_O;
                out[e + 3 * n] = ev + o;
                out[e + 4 * n] = ev - o;
                out[e + 5 * n] = d3 * B_DIAG + (d1 + d5);
            }
        }
    }

    /** One vector of {@link #inputTransform}: out[oOff + k·oStride] = (Bᵀ d)[k] for d = in[i0..i5]. */
    private static void bt6(float[] in, int i0, int i1, int i2, int i3, int i4, int i5, float[] out, int oOff, int oStride) {
        {
            FloatVector d0 = FloatVector.fromArray(F, in, i0), d1 = FloatVector.fromArray(F, in, i1);
            FloatVector d2 = FloatVector.fromArray(F, in, i2), d3 = FloatVector.fromArray(F, in, i3);
            FloatVector d4 = FloatVector.fromArray(F, in, i4), d5 = FloatVector.fromArray(F, in, i5);
            d2.fma(FloatVector.broadcast(F, B_DIAG), d0.add(d4)).intoArray(out, oOff);
            FloatVector e = d2.fma(FloatVector.broadcast(F, B_E1), d4), o = d1.fma(FloatVector.broadcast(F, B_P), d3.mul(B_O));
            e.add(o).intoArray(out, oOff + oStride);
            e.sub(o).intoArray(out, oOff + 2 * oStride);
            e = d2.fma(FloatVector.broadcast(F, B_E2), d4);
            o = d3.fma(FloatVector.broadcast(F, -B_P), d1.mul(-B_O));
            e.add(o).intoArray(out, oOff + 3 * oStride);
            e.sub(o).intoArray(out, oOff + 4 * oStride);
            d3.fma(FloatVector.broadcast(F, B_DIAG), d1.add(d5)).intoArray(out, oOff + 5 * oStride);
        }
    }

    /**
     * V[dst + l·lStride] = (Bᵀ taps)[l] for the taps of the tiles at col[at..]: tap j is phase j % 4 at position
     * s + j / 4. Vector stores may run past the row's last tile into the slack or the next tile row.
     */
    private static void tapTransform(float[] col, int at0, int len, int tiles, MemorySegment v, long dst0, long lStride) {
        for (int s = 0; s < tiles; s += Kernels.VECTOR ? FLOATS : 1) {
            int at = at0 + s;
            long dst = dst0 + s;
            if (Kernels.VECTOR) {
            FloatVector d0 = FloatVector.fromArray(F, col, at), d1 = FloatVector.fromArray(F, col, at + len);
            FloatVector d2 = FloatVector.fromArray(F, col, at + 2 * len), d3 = FloatVector.fromArray(F, col, at + 3 * len);
            FloatVector d4 = FloatVector.fromArray(F, col, at + 1), d5 = FloatVector.fromArray(F, col, at + len + 1);
            long b = dst * Float.BYTES, step = lStride * Float.BYTES;
            d2.fma(FloatVector.broadcast(F, B_DIAG), d0.add(d4)).intoMemorySegment(v, b, ORDER);
            FloatVector e = d2.fma(FloatVector.broadcast(F, B_E1), d4), o = d1.fma(FloatVector.broadcast(F, B_P), d3.mul(B_O));
            e.add(o).intoMemorySegment(v, b + step, ORDER);
            e.sub(o).intoMemorySegment(v, b + 2 * step, ORDER);
            e = d2.fma(FloatVector.broadcast(F, B_E2), d4);
            o = d3.fma(FloatVector.broadcast(F, -B_P), d1.mul(-B_O));
            e.add(o).intoMemorySegment(v, b + 3 * step, ORDER);
            e.sub(o).intoMemorySegment(v, b + 4 * step, ORDER);
            d3.fma(FloatVector.broadcast(F, B_DIAG), d1.add(d5)).intoMemorySegment(v, b + 5 * step, ORDER);
        } else {
            float d0 = col[at], d1 = col[at + len], d2 = col[at + 2 * len], d3 = col[at + 3 * len];
            float d4 = col[at + 1], d5 = col[at + len + 1];
            v.setAtIndex(F32, dst, d2 * B_DIAG + (d0 + d4));
            float e = d2 * B_E1 + d4, o = d1 * B_P + d3 * B_O;
            v.setAtIndex(F32, dst + lStride, e + o);
            v.setAtIndex(F32, dst + 2 * lStride, e - o);
            e = d2 * B_E2 + d4;
            o = d3 * -B_P + d1 * -B_O;
            v.setAtIndex(F32, dst + 3 * lStride, e + o);
            v.setAtIndex(F32, dst + 4 * lStride, e - o);
            v.setAtIndex(F32, dst + 5 * lStride, d3 * B_DIAG + (d1 + d5));
            }
        }
    }

    // ---------------------------------------------------------------- output transform

    /**
     * out[img][oc][4ty + i][4s + j] = (Aᵀ M A)[i][j] + bias for the tiles of tile rows [first, first + rows): per
     * tile row, Aᵀ over the 6 columns of each of M's 6 rows, then Aᵀ over those 6 rows, then the 4 column phases of
     * each output row interleaved back into the image.
     */
    private static void transformOutput(MemorySegment m, int stride, Geometry g, int oc, int first, int rows, float bias,
                                        MemorySegment out) {
        int len = g.phaseLength, tilesX = g.tilesX;
        Scratch sc = SCRATCH.get().fit(len);
        float[] rt = sc.columns, y = sc.outputs, row = sc.row;   // rt[k][j][s], y[i][j][s]
        int vecTiles = Kernels.VECTOR ? Kernels.roundUp(tilesX, FLOATS) : tilesX;
        long lStride = stride;
        for (int r = 0; r < rows; r++) {
            int tileRow = first + r, img = tileRow / g.tilesY, ty = tileRow % g.tilesY;
            long tileBase = (long) r * tilesX;
            for (int k = 0; k < ALPHA; k++) {
                outputRows(m, ((long) oc * POSITIONS + k * ALPHA) * stride + tileBase, lStride, vecTiles, rt, k * TILE * len, len);
            }
            for (int j = 0; j < TILE; j++) outputColumns(rt, j * len, vecTiles, TILE * len, bias, y);
            long plane = ((long) img * g.o + oc) * g.oh * g.ow;
            for (int i = 0; i < TILE; i++) {
                int yy = ty * TILE + i;
                if (yy >= g.oh) break;
                int at = i * TILE * len;
                for (int s = 0; s < tilesX; s++) {
                    row[4 * s] = y[at + s];
                    row[4 * s + 1] = y[at + len + s];
                    row[4 * s + 2] = y[at + 2 * len + s];
                    row[4 * s + 3] = y[at + 3 * len + s];
                }
                MemorySegment.copy(row, 0, out, F32, (plane + (long) yy * g.ow) * Float.BYTES, g.ow);
            }
        }
    }

    /**
     * rt[at0 + s + j·len] = (Aᵀ m)[j] for m = M[src0 + s + l·lStride] (l = 0..5), s in [0, tiles): the row transform
     * of row k of the transformed tiles.
     */
    private static void outputRows(MemorySegment m, long src0, long lStride, int tiles, float[] rt, int at0, int len) {
        for (int s = 0; s < tiles; s += Kernels.VECTOR ? FLOATS : 1) {
            long src = src0 + s;
            int at = at0 + s;
            if (Kernels.VECTOR) {
            long b = src * Float.BYTES, step = lStride * Float.BYTES;
            FloatVector m0 = FloatVector.fromMemorySegment(F, m, b, ORDER);
            FloatVector m1 = FloatVector.fromMemorySegment(F, m, b + step, ORDER);
            FloatVector m2 = FloatVector.fromMemorySegment(F, m, b + 2 * step, ORDER);
            FloatVector m3 = FloatVector.fromMemorySegment(F, m, b + 3 * step, ORDER);
            FloatVector m4 = FloatVector.fromMemorySegment(F, m, b + 4 * step, ORDER);
            FloatVector m5 = FloatVector.fromMemorySegment(F, m, b + 5 * step, ORDER);
            FloatVector s12 = m1.add(m2), d12 = m1.sub(m2), s34 = m3.add(m4), d34 = m3.sub(m4);
            m0.add(s12).add(s34).intoArray(rt, at);
            d12.fma(FloatVector.broadcast(F, A_1), d34.mul(A_1B)).intoArray(rt, at + len);
            s12.fma(FloatVector.broadcast(F, A_2), s34.mul(A_2B)).intoArray(rt, at + 2 * len);
            d12.fma(FloatVector.broadcast(F, A_3), d34.fma(FloatVector.broadcast(F, A_3B), m5)).intoArray(rt, at + 3 * len);
        } else {
            float m0 = m.getAtIndex(F32, src), m1 = m.getAtIndex(F32, src + lStride), m2 = m.getAtIndex(F32, src + 2 * lStride);
            float m3 = m.getAtIndex(F32, src + 3 * lStride), m4 = m.getAtIndex(F32, src + 4 * lStride);
            float m5 = m.getAtIndex(F32, src + 5 * lStride);
            float s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4;
            rt[at] = m0 + s12 + s34;
            rt[at + len] = d12 * A_1 + d34 * A_1B;
            rt[at + 2 * len] = s12 * A_2 + s34 * A_2B;
            rt[at + 3 * len] = d12 * A_3 + (d34 * A_3B + m5);
            }
        }
    }

    /**
     * y[at + i·kStride] = (Aᵀ r)[i] + bias for r = rt[at + k·kStride] (k = 0..5), at in [from, from + n): the column
     * transform of one output column phase (y[i] is laid out like rt[k]: [4][len]).
     */
    private static void outputColumns(float[] rt, int from, int n, int kStride, float bias, float[] y) {
        int oStride = kStride;
        for (int at = from; at < from + n; at += Kernels.VECTOR ? FLOATS : 1) {
            int oAt = at;
            if (Kernels.VECTOR) {
            FloatVector m0 = FloatVector.fromArray(F, rt, at), m1 = FloatVector.fromArray(F, rt, at + kStride);
            FloatVector m2 = FloatVector.fromArray(F, rt, at + 2 * kStride), m3 = FloatVector.fromArray(F, rt, at + 3 * kStride);
            FloatVector m4 = FloatVector.fromArray(F, rt, at + 4 * kStride), m5 = FloatVector.fromArray(F, rt, at + 5 * kStride);
            FloatVector s12 = m1.add(m2), d12 = m1.sub(m2), s34 = m3.add(m4), d34 = m3.sub(m4);
            FloatVector b = FloatVector.broadcast(F, bias);
            m0.add(s12).add(s34).add(b).intoArray(y, oAt);
            d12.fma(FloatVector.broadcast(F, A_1), d34.mul(A_1B)).add(b).intoArray(y, oAt + oStride);
            s12.fma(FloatVector.broadcast(F, A_2), s34.mul(A_2B)).add(b).intoArray(y, oAt + 2 * oStride);
            d12.fma(FloatVector.broadcast(F, A_3), d34.fma(FloatVector.broadcast(F, A_3B), m5)).add(b).intoArray(y, oAt + 3 * oStride);
        } else {
            float m0 = rt[at], m1 = rt[at + kStride], m2 = rt[at + 2 * kStride], m3 = rt[at + 3 * kStride];
            float m4 = rt[at + 4 * kStride], m5 = rt[at + 5 * kStride];
            float s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4;
            y[oAt] = m0 + s12 + s34 + bias;
            y[oAt + oStride] = d12 * A_1 + d34 * A_1B + bias;
            y[oAt + 2 * oStride] = s12 * A_2 + s34 * A_2B + bias;
            y[oAt + 3 * oStride] = d12 * A_3 + (d34 * A_3B + m5) + bias;
            }
        }
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
