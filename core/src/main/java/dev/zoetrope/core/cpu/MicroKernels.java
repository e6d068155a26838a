package dev.zoetrope.core.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * GEMM register tiles: a micro-kernel multiplies a packed A micro-panel (mr × kc) by a packed B panel
 * (kc × nr) into an mr × nr tile of accumulators and writes or adds it straight into C (going through memory
 * for the epilogue measured ~8% slower); edge tiles and first blocks with a bias land in a scratch tile that
 * {@link #store} then adds into C. The vector tiles are mr rows × 2 vectors. C2 schedules all of a step's A broadcasts before its FMAs, so the accumulators,
 * the two B vectors and mr broadcasts must all fit the register file, or an accumulator is spilled and
 * reloaded every step: on AVX2's 16 registers 6 × 2 and 5 × 2 spill and ran at half the speed of 4 × 2, which
 * reaches the FMA peak with its panels in L1 (3 × 3 fits too but measured slower; unrolling the k loop
 * spills as well). Every lane of a tile is computed independently in ascending p, so a C element's value
 * does not depend on which tile or thread computed it.
 */
final class MicroKernels {
    private MicroKernels() {
    }

    /** A register tile shape, its cache blocking and the kernel that computes it. */
    enum Tile {
        /** 16 vector registers (AVX2): 8 accumulators + 2 B vectors + 4 broadcasts fit even when C2 hoists them. */
        V4X2(4, 2),
        /** 32 vector registers (AVX-512, NEON, SVE): 18 accumulators + 2 + 9 broadcasts. */
        V9X2(9, 2),
        /** Plain Java for {@code -Dzoetrope.vector=false}. */
        SCALAR(4, 0);

        final int mr;
        final int nr;
        final boolean vector;
        /** Rows of B per packed block: a kc × nr panel of about 24 KiB stays in L1 beside the A stream. */
        final int kc;
        /** Rows of A per task block: mc × kc floats (about 384 KiB) stay in L2. */
        final int mc;

        Tile(int mr, int vectors) {
            this.mr = mr;
            this.vector = vectors > 0;
            this.nr = vector ? vectors * Kernels.FLOATS : 8;
            this.kc = vector ? Math.clamp(6144 / nr / 16 * 16, 128, 512) : 256;
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

        /** A vector tile straight into C: C = acc, or C + acc when {@code add}. */
        void multiplyInto(float[] a, int aOff, float[] b, int bOff, int kc, MemorySegment c, long cIdx, long ldc,
                          boolean add) {
            switch (this) {
                case V4X2 -> vector4x2(a, aOff, b, bOff, kc, c, cIdx, ldc, add);
                case V9X2 -> vector9x2(a, aOff, b, bOff, kc, c, cIdx, ldc, add);
                case SCALAR -> throw new IllegalStateException("the scalar tile goes through store()");
            }
        }

        /** Any tile into the scratch {@code tile} (mr × nr floats; {@code tileSegment} is a view of it). */
        void multiply(float[] a, int aOff, float[] b, int bOff, int kc, float[] tile, MemorySegment tileSegment) {
            if (vector) multiplyInto(a, aOff, b, bOff, kc, tileSegment, 0, nr, false);
            else scalar(a, aOff, b, bOff, kc, mr, nr, tile);
        }
    }

    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    /**
     * Adds a computed tile into C[rows × cols] at element index {@code cIdx} with leading dimension ldc. The
     * first K block writes {@code acc + colBias[j] + rowBias[i] (+ C if accumulate)}; later blocks write
     * {@code C + acc}. Full tiles take vectors, edges take scalars — the same IEEE additions either way.
     */
    static void store(Tile t, float[] tile, int rows, int cols, MemorySegment c, long cIdx, long ldc, boolean first,
                      boolean accumulate, float[] rowBias, int i0, float[] colBias, int j0) {
        int nr = t.nr;
        if (t.vector && rows == t.mr && cols == nr) {
            VectorSpecies<Float> f = Kernels.F;
            int l = f.length();
            for (int r = 0; r < rows; r++) {
                for (int v = 0; v < nr; v += l) {
                    FloatVector acc = FloatVector.fromArray(f, tile, r * nr + v);
                    long at = (cIdx + r * ldc + v) * Float.BYTES;
                    if (first) {
                        if (colBias != null) acc = acc.add(FloatVector.fromArray(f, colBias, j0 + v));
                        if (rowBias != null) acc = acc.add(rowBias[i0 + r]);
                        if (accumulate) acc = acc.add(FloatVector.fromMemorySegment(f, c, at, ORDER));
                    } else {
                        acc = FloatVector.fromMemorySegment(f, c, at, ORDER).add(acc);
                    }
                    acc.intoMemorySegment(c, at, ORDER);
                }
            }
            return;
        }
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
                float av = a[aOff + r * kc + p];
                int ti = r * nr;
                for (int q = 0; q < nr; q++) tile[ti + q] += av * b[bi + q];
            }
        }
    }

    /**
     * 4 rows × 2 vectors: acc[r, j] = Σ_p a[aOff + r·kc + p]·b[bOff + p·nr + j] (fused, p ascending), then
     * C[r, j] = acc (or C + acc when {@code add}) for the tile at element cIdx of c, leading dimension ldc.
     */
    static void vector4x2(float[] a, int aOff, float[] b, int bOff, int kc, MemorySegment c, long cIdx, long ldc,
                           boolean add) {
        VectorSpecies<Float> f = Kernels.F;
        int l = f.length(), nr = 2 * l;
        int a0 = aOff, a1 = aOff + kc, a2 = aOff + 2 * kc, a3 = aOff + 3 * kc;
        FloatVector zero = FloatVector.zero(f);
        FloatVector c0a = zero, c0b = zero, c1a = zero, c1b = zero, c2a = zero, c2b = zero;
        FloatVector c3a = zero, c3b = zero;
        FloatVector av;
        for (int p = 0; p < kc; p++) {
            int bi = bOff + p * nr;
            FloatVector left = FloatVector.fromArray(f, b, bi), right = FloatVector.fromArray(f, b, bi + l);
            av = FloatVector.broadcast(f, a[a0 + p]); c0a = av.fma(left, c0a); c0b = av.fma(right, c0b);
            av = FloatVector.broadcast(f, a[a1 + p]); c1a = av.fma(left, c1a); c1b = av.fma(right, c1b);
            av = FloatVector.broadcast(f, a[a2 + p]); c2a = av.fma(left, c2a); c2b = av.fma(right, c2b);
            av = FloatVector.broadcast(f, a[a3 + p]); c3a = av.fma(left, c3a); c3b = av.fma(right, c3b);
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
     * 9 rows × 2 vectors: acc[r, j] = Σ_p a[aOff + r·kc + p]·b[bOff + p·nr + j] (fused, p ascending), then
     * C[r, j] = acc (or C + acc when {@code add}) for the tile at element cIdx of c, leading dimension ldc.
     */
    static void vector9x2(float[] a, int aOff, float[] b, int bOff, int kc, MemorySegment c, long cIdx, long ldc,
                           boolean add) {
        VectorSpecies<Float> f = Kernels.F;
        int l = f.length(), nr = 2 * l;
        int a0 = aOff, a1 = aOff + kc, a2 = aOff + 2 * kc, a3 = aOff + 3 * kc, a4 = aOff + 4 * kc;
        int a5 = aOff + 5 * kc, a6 = aOff + 6 * kc, a7 = aOff + 7 * kc, a8 = aOff + 8 * kc;
        FloatVector zero = FloatVector.zero(f);
        FloatVector c0a = zero, c0b = zero, c1a = zero, c1b = zero, c2a = zero, c2b = zero;
        FloatVector c3a = zero, c3b = zero, c4a = zero, c4b = zero, c5a = zero, c5b = zero;
        FloatVector c6a = zero, c6b = zero, c7a = zero, c7b = zero, c8a = zero, c8b = zero;
        FloatVector av;
        for (int p = 0; p < kc; p++) {
            int bi = bOff + p * nr;
            FloatVector left = FloatVector.fromArray(f, b, bi), right = FloatVector.fromArray(f, b, bi + l);
            av = FloatVector.broadcast(f, a[a0 + p]); c0a = av.fma(left, c0a); c0b = av.fma(right, c0b);
            av = FloatVector.broadcast(f, a[a1 + p]); c1a = av.fma(left, c1a); c1b = av.fma(right, c1b);
            av = FloatVector.broadcast(f, a[a2 + p]); c2a = av.fma(left, c2a); c2b = av.fma(right, c2b);
            av = FloatVector.broadcast(f, a[a3 + p]); c3a = av.fma(left, c3a); c3b = av.fma(right, c3b);
            av = FloatVector.broadcast(f, a[a4 + p]); c4a = av.fma(left, c4a); c4b = av.fma(right, c4b);
            av = FloatVector.broadcast(f, a[a5 + p]); c5a = av.fma(left, c5a); c5b = av.fma(right, c5b);
            av = FloatVector.broadcast(f, a[a6 + p]); c6a = av.fma(left, c6a); c6b = av.fma(right, c6b);
            av = FloatVector.broadcast(f, a[a7 + p]); c7a = av.fma(left, c7a); c7b = av.fma(right, c7b);
            av = FloatVector.broadcast(f, a[a8 + p]); c8a = av.fma(left, c8a); c8b = av.fma(right, c8b);
        }
        long h = (long) Float.BYTES * l, row = (long) Float.BYTES * ldc, at = (long) Float.BYTES * cIdx;
        if (add) {
            c0a = FloatVector.fromMemorySegment(f, c, at, ORDER).add(c0a); c0b = FloatVector.fromMemorySegment(f, c, at + h, ORDER).add(c0b);
            c1a = FloatVector.fromMemorySegment(f, c, at + row, ORDER).add(c1a); c1b = FloatVector.fromMemorySegment(f, c, at + row + h, ORDER).add(c1b);
            c2a = FloatVector.fromMemorySegment(f, c, at + 2 * row, ORDER).add(c2a); c2b = FloatVector.fromMemorySegment(f, c, at + 2 * row + h, ORDER).add(c2b);
            c3a = FloatVector.fromMemorySegment(f, c, at + 3 * row, ORDER).add(c3a); c3b = FloatVector.fromMemorySegment(f, c, at + 3 * row + h, ORDER).add(c3b);
            c4a = FloatVector.fromMemorySegment(f, c, at + 4 * row, ORDER).add(c4a); c4b = FloatVector.fromMemorySegment(f, c, at + 4 * row + h, ORDER).add(c4b);
            c5a = FloatVector.fromMemorySegment(f, c, at + 5 * row, ORDER).add(c5a); c5b = FloatVector.fromMemorySegment(f, c, at + 5 * row + h, ORDER).add(c5b);
            c6a = FloatVector.fromMemorySegment(f, c, at + 6 * row, ORDER).add(c6a); c6b = FloatVector.fromMemorySegment(f, c, at + 6 * row + h, ORDER).add(c6b);
            c7a = FloatVector.fromMemorySegment(f, c, at + 7 * row, ORDER).add(c7a); c7b = FloatVector.fromMemorySegment(f, c, at + 7 * row + h, ORDER).add(c7b);
            c8a = FloatVector.fromMemorySegment(f, c, at + 8 * row, ORDER).add(c8a); c8b = FloatVector.fromMemorySegment(f, c, at + 8 * row + h, ORDER).add(c8b);
        }
        c0a.intoMemorySegment(c, at, ORDER); c0b.intoMemorySegment(c, at + h, ORDER);
        c1a.intoMemorySegment(c, at + row, ORDER); c1b.intoMemorySegment(c, at + row + h, ORDER);
        c2a.intoMemorySegment(c, at + 2 * row, ORDER); c2b.intoMemorySegment(c, at + 2 * row + h, ORDER);
        c3a.intoMemorySegment(c, at + 3 * row, ORDER); c3b.intoMemorySegment(c, at + 3 * row + h, ORDER);
        c4a.intoMemorySegment(c, at + 4 * row, ORDER); c4b.intoMemorySegment(c, at + 4 * row + h, ORDER);
        c5a.intoMemorySegment(c, at + 5 * row, ORDER); c5b.intoMemorySegment(c, at + 5 * row + h, ORDER);
        c6a.intoMemorySegment(c, at + 6 * row, ORDER); c6b.intoMemorySegment(c, at + 6 * row + h, ORDER);
        c7a.intoMemorySegment(c, at + 7 * row, ORDER); c7b.intoMemorySegment(c, at + 7 * row + h, ORDER);
        c8a.intoMemorySegment(c, at + 8 * row, ORDER); c8b.intoMemorySegment(c, at + 8 * row + h, ORDER);
    }
}
