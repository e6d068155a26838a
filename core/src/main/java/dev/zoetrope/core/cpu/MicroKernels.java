package dev.zoetrope.core.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * GEMM register tiles: a micro-kernel multiplies a packed A micro-panel (mr × kc) by a packed B panel
 * (kc × nr) into an mr × nr tile of accumulators, then {@link #store} adds the tile into C. The vector tiles
 * are mr rows × 2 vectors: all accumulators plus two B vectors and the A broadcasts must fit the register
 * file, or C2 spills an accumulator every step (6 × 2 on AVX2's 16 registers measured at half the speed of
 * 5 × 2, which runs at the FMA peak). Every lane of a tile is computed independently in ascending p, so a
 * C element's value does not depend on which tile or thread computed it.
 */
final class MicroKernels {
    private MicroKernels() {
    }

    /** A register tile shape, its cache blocking and the kernel that computes it. */
    enum Tile {
        /** 16 vector registers (AVX2): 8 accumulators, 2 B vectors, up to 4 broadcasts — never spills. */
        V4X2(4, 2),
        /** 16 vector registers, 3-vector-wide alternative (9 accumulators). */
        V3X3(3, 3),
        /** 5 rows: the better FMA/load ratio, but C2 hoists all 5 broadcasts and spills an accumulator on AVX2. */
        V5X2(5, 2),
        /** 32 vector registers (AVX-512, NEON, SVE): 18 accumulators. */
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
            if (forced != null) return valueOf(forced);
            boolean wideRegisterFile = Kernels.F.vectorBitSize() >= 512
                    || System.getProperty("os.arch", "").equals("aarch64");
            return wideRegisterFile ? V9X2 : V4X2;
        }

        void multiply(float[] a, int aOff, float[] b, int bOff, int kc, float[] tile) {
            switch (this) {
                case V4X2 -> vector4x2(a, aOff, b, bOff, kc, tile);
                case V3X3 -> vector3x3(a, aOff, b, bOff, kc, tile);
                case V9X2 -> vector9x2(a, aOff, b, bOff, kc, tile);
                case V5X2 -> vector5x2(a, aOff, b, bOff, kc, tile);
                case SCALAR -> scalar(a, aOff, b, bOff, kc, mr, nr, tile);
            }
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

    /** 4 rows × 2 vectors: tile[r·nr + j] = Σ_p a[aOff + r·kc + p]·b[bOff + p·nr + j], fused, p ascending. */
    static void vector4x2(float[] a, int aOff, float[] b, int bOff, int kc, float[] tile) {
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
        c0a.intoArray(tile, 0 * nr); c0b.intoArray(tile, 0 * nr + l);
        c1a.intoArray(tile, 1 * nr); c1b.intoArray(tile, 1 * nr + l);
        c2a.intoArray(tile, 2 * nr); c2b.intoArray(tile, 2 * nr + l);
        c3a.intoArray(tile, 3 * nr); c3b.intoArray(tile, 3 * nr + l);
    }

    /** 3 rows × 3 vectors: tile[r·nr + j] = Σ_p a[aOff + r·kc + p]·b[bOff + p·nr + j], fused, p ascending. */
    static void vector3x3(float[] a, int aOff, float[] b, int bOff, int kc, float[] tile) {
        VectorSpecies<Float> f = Kernels.F;
        int l = f.length(), nr = 3 * l;
        int a0 = aOff, a1 = aOff + kc, a2 = aOff + 2 * kc;
        FloatVector zero = FloatVector.zero(f);
        FloatVector c0a = zero, c0b = zero, c0c = zero, c1a = zero, c1b = zero, c1c = zero;
        FloatVector c2a = zero, c2b = zero, c2c = zero;
        FloatVector av;
        for (int p = 0; p < kc; p++) {
            int bi = bOff + p * nr;
            FloatVector left = FloatVector.fromArray(f, b, bi), mid = FloatVector.fromArray(f, b, bi + l), right = FloatVector.fromArray(f, b, bi + 2 * l);
            av = FloatVector.broadcast(f, a[a0 + p]); c0a = av.fma(left, c0a); c0b = av.fma(mid, c0b); c0c = av.fma(right, c0c);
            av = FloatVector.broadcast(f, a[a1 + p]); c1a = av.fma(left, c1a); c1b = av.fma(mid, c1b); c1c = av.fma(right, c1c);
            av = FloatVector.broadcast(f, a[a2 + p]); c2a = av.fma(left, c2a); c2b = av.fma(mid, c2b); c2c = av.fma(right, c2c);
        }
        c0a.intoArray(tile, 0 * nr); c0b.intoArray(tile, 0 * nr + l); c0c.intoArray(tile, 0 * nr + 2 * l);
        c1a.intoArray(tile, 1 * nr); c1b.intoArray(tile, 1 * nr + l); c1c.intoArray(tile, 1 * nr + 2 * l);
        c2a.intoArray(tile, 2 * nr); c2b.intoArray(tile, 2 * nr + l); c2c.intoArray(tile, 2 * nr + 2 * l);
    }

    /** 5 rows × 2 vectors: tile[r·nr + j] = Σ_p a[aOff + r·kc + p]·b[bOff + p·nr + j], fused, p ascending. */
    static void vector5x2(float[] a, int aOff, float[] b, int bOff, int kc, float[] tile) {
        VectorSpecies<Float> f = Kernels.F;
        int l = f.length(), nr = 2 * l;
        int a0 = aOff, a1 = aOff + kc, a2 = aOff + 2 * kc, a3 = aOff + 3 * kc, a4 = aOff + 4 * kc;
        FloatVector zero = FloatVector.zero(f);
        FloatVector c0a = zero, c0b = zero, c1a = zero, c1b = zero, c2a = zero, c2b = zero;
        FloatVector c3a = zero, c3b = zero, c4a = zero, c4b = zero;
        FloatVector av;
        for (int p = 0; p < kc; p++) {
            int bi = bOff + p * nr;
            FloatVector left = FloatVector.fromArray(f, b, bi), right = FloatVector.fromArray(f, b, bi + l);
            av = FloatVector.broadcast(f, a[a0 + p]); c0a = av.fma(left, c0a); c0b = av.fma(right, c0b);
            av = FloatVector.broadcast(f, a[a1 + p]); c1a = av.fma(left, c1a); c1b = av.fma(right, c1b);
            av = FloatVector.broadcast(f, a[a2 + p]); c2a = av.fma(left, c2a); c2b = av.fma(right, c2b);
            av = FloatVector.broadcast(f, a[a3 + p]); c3a = av.fma(left, c3a); c3b = av.fma(right, c3b);
            av = FloatVector.broadcast(f, a[a4 + p]); c4a = av.fma(left, c4a); c4b = av.fma(right, c4b);
        }
        c0a.intoArray(tile, 0 * nr); c0b.intoArray(tile, 0 * nr + l);
        c1a.intoArray(tile, 1 * nr); c1b.intoArray(tile, 1 * nr + l);
        c2a.intoArray(tile, 2 * nr); c2b.intoArray(tile, 2 * nr + l);
        c3a.intoArray(tile, 3 * nr); c3b.intoArray(tile, 3 * nr + l);
        c4a.intoArray(tile, 4 * nr); c4b.intoArray(tile, 4 * nr + l);
    }

    /** 9 rows × 2 vectors: tile[r·nr + j] = Σ_p a[aOff + r·kc + p]·b[bOff + p·nr + j], fused, p ascending. */
    static void vector9x2(float[] a, int aOff, float[] b, int bOff, int kc, float[] tile) {
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
        c0a.intoArray(tile, 0 * nr); c0b.intoArray(tile, 0 * nr + l);
        c1a.intoArray(tile, 1 * nr); c1b.intoArray(tile, 1 * nr + l);
        c2a.intoArray(tile, 2 * nr); c2b.intoArray(tile, 2 * nr + l);
        c3a.intoArray(tile, 3 * nr); c3b.intoArray(tile, 3 * nr + l);
        c4a.intoArray(tile, 4 * nr); c4b.intoArray(tile, 4 * nr + l);
        c5a.intoArray(tile, 5 * nr); c5b.intoArray(tile, 5 * nr + l);
        c6a.intoArray(tile, 6 * nr); c6b.intoArray(tile, 6 * nr + l);
        c7a.intoArray(tile, 7 * nr); c7b.intoArray(tile, 7 * nr + l);
        c8a.intoArray(tile, 8 * nr); c8b.intoArray(tile, 8 * nr + l);
    }
}
