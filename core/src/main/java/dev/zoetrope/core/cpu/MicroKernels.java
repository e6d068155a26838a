package dev.zoetrope.core.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * GEMM register tiles: a micro-kernel multiplies a packed A micro-panel (mr × kc, row r at r·{@link #PITCH})
 * by a packed B panel (kc × nr) into an mr × nr tile of accumulators and writes or adds it, biases included,
 * into C: the 4 × 2 tile straight from its registers (a round trip through a scratch tile measured ~8% slower
 * on AVX2), the 9 × 2 tile through the scratch tile (see {@link #vector9x2}); edge tiles take the scratch
 * tile, which {@link #store} adds into C with the same additions in the same order.
 *
 * <p>The vector tiles are mr rows × 2 vectors. C2 schedules all of a step's A broadcasts before its FMAs, so
 * the accumulators, the two B vectors and mr broadcasts must all fit the register file, or an accumulator is
 * spilled and reloaded every step: on AVX2's 16 registers 6 × 2 and 5 × 2 spill and ran at half the speed of
 * 4 × 2, which reaches ~90% of the FMA peak with its panels in L1 (3 × 3 fits too but measured slower;
 * unrolling the k loop spills as well). Every lane of a tile is computed independently in ascending p, so a
 * C element's value does not depend on which tile or thread computed it.
 */
final class MicroKernels {
    private MicroKernels() {
    }

    /** A register tile shape, its cache blocking and the kernel that computes it. */
    enum Tile {
        /** 16 vector registers (AVX2): 8 accumulators + 2 B vectors + 4 broadcasts fit even when C2 hoists them. */
        V4X2(4, 2, 6144),
        /** 32 vector registers (AVX-512, NEON, SVE): 18 accumulators + 2 + 9 broadcasts. */
        V9X2(9, 2, 32768),
        /** Plain Java for {@code -Dzoetrope.vector=false}. */
        SCALAR(4, 0, 0);

        final int mr;
        final int nr;
        final boolean vector;
        /**
         * Rows of B per packed block, from a budget of floats per kc × nr panel: 6144 (24 KiB, in L1 beside the
         * A stream) for 4 × 2; 32768 for 9 × 2, i.e. kc = {@link #PITCH} = 1024. That 128 KiB panel lives in L2,
         * not L1, yet on the AVX-512 EPYC kc 512 beat 192 by 7–12 % (1024³: 200 → 215 GFLOP/s on one thread,
         * 350 → 393 on two) and 1024 beat 512 by another 2–5 % (one thread 212 → 217, two 410 → 436): fewer
         * K blocks, fewer passes over C and fewer A packs.
         */
        final int kc;
        /** Most rows of A per task block (mc × kc floats, 384 KiB); {@link Gemm} may choose fewer. */
        final int mc;

        Tile(int mr, int vectors, int panelFloats) {
            this.mr = mr;
            this.vector = vectors > 0;
            this.nr = vector ? vectors * Kernels.FLOATS : 8;
            this.kc = vector ? Math.clamp(panelFloats / nr / 16 * 16, 128, PITCH) : 256;
            this.mc = Math.max(mr, 98304 / kc / mr * mr);
        }

        /** The tile for this machine, chosen once from the vector species and the architecture. */
        static Tile preferred() {
            if (!Kernels.VECTOR) return SCALAR;
            String forced = System.getProperty("zoetrope.gemm.tile");
            if (forced != null) {
                try {
                    return valueOf(forced);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("-Dzoetrope.gemm.tile=" + forced + ": expected one of "
                            + java.util.Arrays.toString(values()), e);
                }
            }
            boolean wideRegisterFile = Kernels.F.vectorBitSize() >= 512
                    || System.getProperty("os.arch", "").equals("aarch64");
            return wideRegisterFile ? V9X2 : V4X2;
        }

        /**
         * A full vector tile into C: C = acc + biases, or C + (acc + biases) when {@code add}; the 9 × 2 tile
         * passes through the scratch {@code tile} (mr × nr floats), the 4 × 2 tile writes from its registers.
         */
        void multiplyInto(float[] a, int aOff, float[] b, int bOff, int kc, MemorySegment c, long cIdx, long ldc,
                          boolean add, float[] colBias, int j0, float[] rowBias, int i0, float[] tile) {
            switch (this) {
                case V4X2 -> vector4x2(a, aOff, b, bOff, kc, c, cIdx, ldc, add, colBias, j0, rowBias, i0);
                case V9X2 -> {
                    vector9x2(a, aOff, b, bOff, kc, tile);
                    storeVector(mr, tile, c, cIdx, ldc, add, colBias, j0, rowBias, i0);
                }
                case SCALAR -> throw new IllegalStateException("the scalar tile goes through store()");
            }
        }

        /** Any tile into the scratch {@code tile} (mr × nr floats; {@code tileSegment} is a view of it). */
        void multiply(float[] a, int aOff, float[] b, int bOff, int kc, float[] tile, MemorySegment tileSegment) {
            switch (this) {
                case V4X2 -> vector4x2(a, aOff, b, bOff, kc, tileSegment, 0, nr, false, null, 0, null, 0);
                case V9X2 -> vector9x2(a, aOff, b, bOff, kc, tile);
                case SCALAR -> scalar(a, aOff, b, bOff, kc, mr, nr, tile);
            }
        }
    }

    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    /**
     * Distance between the rows of a packed A micro-panel, ≥ every tile's kc. A constant, so the kernels
     * address row r as {@code a[ai + r·PITCH]} with one index register and a fixed displacement: with a
     * register per row, C2 ran out of general registers under -XX:+UseParallelGC and carried a spill through
     * every iteration (a third slower). 1024 rather than 512 for the 9 × 2 tile's kc; the 4 × 2 tile (kc 384)
     * measured no slower with it (AVX2 code on the AVX-512 EPYC: 108 / 215 GFLOP/s at 1 / 2 threads vs 108 / 196).
     */
    static final int PITCH = 1024;

    /**
     * Adds a computed scratch tile into C[rows × cols] at element index {@code cIdx} with leading dimension ldc.
     * The first K block writes {@code acc + colBias[j] + rowBias[i] (+ C if accumulate)}; later blocks write
     * {@code C + acc} — the additions the vector kernels' epilogue makes.
     */
    static void store(Tile t, float[] tile, int rows, int cols, MemorySegment c, long cIdx, long ldc, boolean first,
                      boolean accumulate, float[] rowBias, int i0, float[] colBias, int j0) {
        int nr = t.nr;
        for (int r = 0; r < rows; r++) {
            long row = cIdx + r * ldc;
            for (int q = 0; q < cols; q++) {
                float acc = tile[r * nr + q];
                long at = row + q;
                if (first) {
                    if (colBias != null) acc += colBias[j0 + q];
                    if (rowBias != null) acc += rowBias[i0 + r];
                    if (accumulate) acc += c.getAtIndex(Kernels.F32, at);
                } else {
                    acc = c.getAtIndex(Kernels.F32, at) + acc;
                }
                c.setAtIndex(Kernels.F32, at, acc);
            }
        }
    }

    /** The scalar tile: same packed layout, plain multiply-add, p ascending. */
    static void scalar(float[] a, int aOff, float[] b, int bOff, int kc, int mr, int nr, float[] tile) {
        Arrays.fill(tile, 0, mr * nr, 0f);
        for (int p = 0; p < kc; p++) {
            int bi = bOff + p * nr;
            for (int r = 0; r < mr; r++) {
                float av = a[aOff + r * PITCH + p];
                int ti = r * nr;
                for (int q = 0; q < nr; q++) tile[ti + q] += av * b[bi + q];
            }
        }
    }

    /**
     * 4 rows × 2 vectors: acc[r, j] = Σ_p a[aOff + r·PITCH + p]·b[bOff + p·nr + j] (fused, p ascending), then
     * acc + colBias[j0 + j] + rowBias[i0 + r] (biases optional) is written to the tile at element cIdx of c
     * (leading dimension ldc), or added to it when {@code add}: the order {@link #store} uses.
     */
    static void vector4x2(float[] a, int aOff, float[] b, int bOff, int kc, MemorySegment c, long cIdx, long ldc,
                          boolean add, float[] colBias, int j0, float[] rowBias, int i0) {
        VectorSpecies<Float> f = Kernels.F;
        int l = f.length(), nr = 2 * l;
        FloatVector zero = FloatVector.zero(f);
        FloatVector c0a = zero, c0b = zero, c1a = zero, c1b = zero, c2a = zero, c2b = zero;
        FloatVector c3a = zero, c3b = zero;
        FloatVector av;
        for (int p = 0; p < kc; p++) {
            int ai = aOff + p, bi = bOff + p * nr;
            FloatVector left = FloatVector.fromArray(f, b, bi), right = FloatVector.fromArray(f, b, bi + l);
            av = FloatVector.broadcast(f, a[ai]); c0a = av.fma(left, c0a); c0b = av.fma(right, c0b);
            av = FloatVector.broadcast(f, a[ai + PITCH]); c1a = av.fma(left, c1a); c1b = av.fma(right, c1b);
            av = FloatVector.broadcast(f, a[ai + 2 * PITCH]); c2a = av.fma(left, c2a); c2b = av.fma(right, c2b);
            av = FloatVector.broadcast(f, a[ai + 3 * PITCH]); c3a = av.fma(left, c3a); c3b = av.fma(right, c3b);
        }
        if (colBias != null) {
            FloatVector biasa = FloatVector.fromArray(f, colBias, j0), biasb = FloatVector.fromArray(f, colBias, j0 + l);
            c0a = c0a.add(biasa); c0b = c0b.add(biasb);
            c1a = c1a.add(biasa); c1b = c1b.add(biasb);
            c2a = c2a.add(biasa); c2b = c2b.add(biasb);
            c3a = c3a.add(biasa); c3b = c3b.add(biasb);
        }
        if (rowBias != null) {
            av = FloatVector.broadcast(f, rowBias[i0]); c0a = c0a.add(av); c0b = c0b.add(av);
            av = FloatVector.broadcast(f, rowBias[i0 + 1]); c1a = c1a.add(av); c1b = c1b.add(av);
            av = FloatVector.broadcast(f, rowBias[i0 + 2]); c2a = c2a.add(av); c2b = c2b.add(av);
            av = FloatVector.broadcast(f, rowBias[i0 + 3]); c3a = c3a.add(av); c3b = c3b.add(av);
        }
        long h = (long) Float.BYTES * l, row = (long) Float.BYTES * ldc, at = (long) Float.BYTES * cIdx;
        if (add) {
            c0a = FloatVector.fromMemorySegment(f, c, at, ORDER).add(c0a); c0b = FloatVector.fromMemorySegment(f, c, at + h, ORDER).add(c0b);
            c1a = FloatVector.fromMemorySegment(f, c, at + row, ORDER).add(c1a); c1b = FloatVector.fromMemorySegment(f, c, at + row + h, ORDER).add(c1b);
            c2a = FloatVector.fromMemorySegment(f, c, at + 2 * row, ORDER).add(c2a); c2b = FloatVector.fromMemorySegment(f, c, at + 2 * row + h, ORDER).add(c2b);
            c3a = FloatVector.fromMemorySegment(f, c, at + 3 * row, ORDER).add(c3a); c3b = FloatVector.fromMemorySegment(f, c, at + 3 * row + h, ORDER).add(c3b);
        }
        c0a.intoMemorySegment(c, at, ORDER); c0b.intoMemorySegment(c, at + h, ORDER);
        c1a.intoMemorySegment(c, at + row, ORDER); c1b.intoMemorySegment(c, at + row + h, ORDER);
        c2a.intoMemorySegment(c, at + 2 * row, ORDER); c2b.intoMemorySegment(c, at + 2 * row + h, ORDER);
        c3a.intoMemorySegment(c, at + 3 * row, ORDER); c3b.intoMemorySegment(c, at + 3 * row + h, ORDER);
    }

    /**
     * 9 rows × 2 vectors: tile[r·nr + j] = Σ_p a[aOff + r·PITCH + p]·b[bOff + p·nr + j] (fused, p ascending).
     * Only the loop lives here, the epilogue is {@link #storeVector}: with both in one method C1 ran out of
     * virtual registers on 512-bit vectors, and a method C1 cannot compile may never reach C2 (it stayed in
     * tier-2 code that calls the Vector API's Java fallbacks: GEMM at 1.8 GFLOP/s instead of 200). The round
     * trip through the tile costs 18 stores and loads per kc·18 FMAs and measured no slower.
     */
    static void vector9x2(float[] a, int aOff, float[] b, int bOff, int kc, float[] tile) {
        VectorSpecies<Float> f = Kernels.F;
        int l = f.length(), nr = 2 * l;
        FloatVector zero = FloatVector.zero(f);
        FloatVector c0a = zero, c0b = zero, c1a = zero, c1b = zero, c2a = zero, c2b = zero;
        FloatVector c3a = zero, c3b = zero, c4a = zero, c4b = zero, c5a = zero, c5b = zero;
        FloatVector c6a = zero, c6b = zero, c7a = zero, c7b = zero, c8a = zero, c8b = zero;
        FloatVector av;
        for (int p = 0; p < kc; p++) {
            int ai = aOff + p, bi = bOff + p * nr;
            FloatVector left = FloatVector.fromArray(f, b, bi), right = FloatVector.fromArray(f, b, bi + l);
            av = FloatVector.broadcast(f, a[ai]); c0a = av.fma(left, c0a); c0b = av.fma(right, c0b);
            av = FloatVector.broadcast(f, a[ai + PITCH]); c1a = av.fma(left, c1a); c1b = av.fma(right, c1b);
            av = FloatVector.broadcast(f, a[ai + 2 * PITCH]); c2a = av.fma(left, c2a); c2b = av.fma(right, c2b);
            av = FloatVector.broadcast(f, a[ai + 3 * PITCH]); c3a = av.fma(left, c3a); c3b = av.fma(right, c3b);
            av = FloatVector.broadcast(f, a[ai + 4 * PITCH]); c4a = av.fma(left, c4a); c4b = av.fma(right, c4b);
            av = FloatVector.broadcast(f, a[ai + 5 * PITCH]); c5a = av.fma(left, c5a); c5b = av.fma(right, c5b);
            av = FloatVector.broadcast(f, a[ai + 6 * PITCH]); c6a = av.fma(left, c6a); c6b = av.fma(right, c6b);
            av = FloatVector.broadcast(f, a[ai + 7 * PITCH]); c7a = av.fma(left, c7a); c7b = av.fma(right, c7b);
            av = FloatVector.broadcast(f, a[ai + 8 * PITCH]); c8a = av.fma(left, c8a); c8b = av.fma(right, c8b);
        }
        c0a.intoArray(tile, 0); c0b.intoArray(tile, l);
        c1a.intoArray(tile, nr); c1b.intoArray(tile, nr + l);
        c2a.intoArray(tile, 2 * nr); c2b.intoArray(tile, 2 * nr + l);
        c3a.intoArray(tile, 3 * nr); c3b.intoArray(tile, 3 * nr + l);
        c4a.intoArray(tile, 4 * nr); c4b.intoArray(tile, 4 * nr + l);
        c5a.intoArray(tile, 5 * nr); c5b.intoArray(tile, 5 * nr + l);
        c6a.intoArray(tile, 6 * nr); c6b.intoArray(tile, 6 * nr + l);
        c7a.intoArray(tile, 7 * nr); c7b.intoArray(tile, 7 * nr + l);
        c8a.intoArray(tile, 8 * nr); c8b.intoArray(tile, 8 * nr + l);
    }

    /**
     * A full mr × 2-vector tile of sums into C at element cIdx (leading dimension ldc): acc + colBias[j0 + j] +
     * rowBias[i0 + r] (biases optional) is written, or added to C when {@code add} — {@link #store}'s order.
     */
    static void storeVector(int mr, float[] tile, MemorySegment c, long cIdx, long ldc, boolean add,
                            float[] colBias, int j0, float[] rowBias, int i0) {
        VectorSpecies<Float> f = Kernels.F;
        int l = f.length(), nr = 2 * l;
        long h = (long) Float.BYTES * l;
        FloatVector biasa = colBias == null ? null : FloatVector.fromArray(f, colBias, j0);
        FloatVector biasb = colBias == null ? null : FloatVector.fromArray(f, colBias, j0 + l);
        for (int r = 0; r < mr; r++) {
            FloatVector va = FloatVector.fromArray(f, tile, r * nr), vb = FloatVector.fromArray(f, tile, r * nr + l);
            if (biasa != null) {
                va = va.add(biasa);
                vb = vb.add(biasb);
            }
            if (rowBias != null) {
                FloatVector rb = FloatVector.broadcast(f, rowBias[i0 + r]);
                va = va.add(rb);
                vb = vb.add(rb);
            }
            long at = (long) Float.BYTES * (cIdx + r * ldc);
            if (add) {
                va = FloatVector.fromMemorySegment(f, c, at, ORDER).add(va);
                vb = FloatVector.fromMemorySegment(f, c, at + h, ORDER).add(vb);
            }
            va.intoMemorySegment(c, at, ORDER);
            vb.intoMemorySegment(c, at + h, ORDER);
        }
    }
}
