package dev.zoetrope.core.cpu;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Parallel;
import dev.zoetrope.core.cpu.MicroKernels.Tile;

import java.lang.foreign.MemorySegment;

/**
 * Single-precision GEMM: {@code C[m×n] (+)= A[m×k] · B[k×n] (+ bias)}. Operands are addressed by element
 * offset and strides so transposed views need no copy; A and B may be F32, F16 or BF16 (widened while
 * packing). C is row-major F32 with leading dimension ldc.
 *
 * <p>Blocked as in GotoBLAS/BLIS: for each block of NC columns and each block of KC rows of B, the B block is
 * packed into kc × nr panels (shared, L3), then tasks over (rows of A × groups of panels) pack their A block
 * into mr × kc micro-panels (L2) and run the register-tile micro-kernel over every (panel, micro-panel) pair,
 * the B panel staying in L1. K is never split across threads: a C element accumulates its K blocks in order,
 * each block by one micro-kernel lane, so results are bit-identical for any thread count. At most
 * {@link Gemv#MAX_ROWS} rows take the streaming GEMV path instead.
 */
public final class Gemm {
    private Gemm() {
    }

    /** Columns of B per packed block: kc × nc floats (3 MiB at kc 384) stay in L3. */
    static final int NC = 2048;
    /** The register tile this machine uses, chosen once from the vector species. */
    static final Tile TILE = Tile.preferred();

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    /**
     * {@code C[m×n] (+)= A·B + bias[n]} with A F32.
     *
     * @param bias       per output column (length ≥ n) or null
     * @param accumulate add to C's current values instead of overwriting them
     */
    public static void gemm(int m, int n, int k,
                            MemorySegment a, long aOff, long aRowStride, long aColStride,
                            MemorySegment b, DType bType, long bOff, long bRowStride, long bColStride,
                            MemorySegment c, long cOff, long ldc,
                            float[] bias, boolean accumulate) {
        gemm(m, n, k, a, DType.F32, aOff, aRowStride, aColStride, b, bType, bOff, bRowStride, bColStride,
                c, cOff, ldc, null, bias, accumulate);
    }

    /**
     * {@code C[m×n] (+)= A·B + colBias[n] + rowBias[m]} with A and B in F32, F16 or BF16. Each C element is
     * computed as {@code (A·B)[i,j] + colBias[j] + rowBias[i] (+ C[i,j])}.
     */
    public static void gemm(int m, int n, int k,
                            MemorySegment a, DType aType, long aOff, long aRowStride, long aColStride,
                            MemorySegment b, DType bType, long bOff, long bRowStride, long bColStride,
                            MemorySegment c, long cOff, long ldc,
                            float[] rowBias, float[] colBias, boolean accumulate) {
        Panels.Strided as = new Panels.Strided(a, aType, aOff, aRowStride, aColStride);
        Panels.Strided bs = new Panels.Strided(b, bType, bOff, bRowStride, bColStride);
        checkArguments(m, n, k, c, ldc, rowBias, colBias);
        if (m == 0 || n == 0) return;
        if (m <= Gemv.MAX_ROWS && k > 0 && Gemv.supports(bs)) {
            Gemv.multiply(m, n, k, as, bs, c, cOff, ldc, rowBias, colBias, accumulate);
        } else {
            multiply(m, n, k, as, bs, c, cOff, ldc, rowBias, colBias, accumulate, TILE);
        }
    }

    private static void checkArguments(int m, int n, int k, MemorySegment c, long ldc, float[] rowBias, float[] colBias) {
        if (m < 0 || n < 0 || k < 0) throw new IllegalArgumentException("gemm: negative size m=" + m + " n=" + n + " k=" + k);
        if (c == null) throw new IllegalArgumentException("gemm: no output");
        if (m > 1 && ldc < n) throw new IllegalArgumentException("gemm: ldc " + ldc + " < n " + n);
        if (rowBias != null && rowBias.length < m) {
            throw new IllegalArgumentException("gemm: row bias has " + rowBias.length + " values, needs " + m);
        }
        if (colBias != null && colBias.length < n) {
            throw new IllegalArgumentException("gemm: column bias has " + colBias.length + " values, needs " + n);
        }
    }

    /** The blocked product with any panel sources (e.g. an implicit im2col for B) and a given register tile. */
    static void multiply(int m, int n, int k, Panels.A a, Panels.B b, MemorySegment c, long cOff, long ldc,
                         float[] rowBias, float[] colBias, boolean accumulate, Tile tile) {
        if (m == 0 || n == 0) return;
        if (k == 0) {
            biasOnly(m, n, c, cOff, ldc, rowBias, colBias, accumulate);
            return;
        }
        int mr = tile.mr, nr = tile.nr;
        // Balanced blocks: K blocks depend on k only (the order of additions), the rest only on speed.
        int kBlocks = ceilDiv(k, tile.kc), kcMax = ceilDiv(k, kBlocks);
        int nBlocks = ceilDiv(n, NC), ncMax = roundUp(ceilDiv(n, nBlocks), nr);
        int threads = Parallel.threads();
        int microPanels = ceilDiv(m, mr);
        int mBlocks = ceilDiv(m, tile.mc);
        if (threads > 1 && mBlocks < 4 * threads) mBlocks = Math.min(microPanels, roundUp(mBlocks, threads));
        int mcMax = ceilDiv(microPanels, mBlocks) * mr;
        int rowBlocks = ceilDiv(m, mcMax);
        float[] bPack = WORKSPACE.get().b(ncMax * kcMax);
        for (int j0 = 0; j0 < n; j0 += ncMax) {
            int nc = Math.min(ncMax, n - j0), panels = ceilDiv(nc, nr);
            // Too few row blocks to keep every thread busy: also split the panels (A is then packed twice).
            int chunks = rowBlocks >= threads ? 1 : Math.min(panels, ceilDiv(threads, rowBlocks));
            int panelsPerChunk = ceilDiv(panels, chunks);
            int chunkCount = ceilDiv(panels, panelsPerChunk);
            for (int p0 = 0; p0 < k; p0 += kcMax) {
                int kc = Math.min(kcMax, k - p0);
                boolean first = p0 == 0;
                int jBase = j0, pBase = p0;
                Parallel.forRange(panels, 4, (s, e) -> {
                    for (int jp = (int) s; jp < e; jp++) {
                        b.packColumns(pBase, kc, jBase + jp * nr, Math.min(nr, nc - jp * nr), nr, bPack, jp * kc * nr);
                    }
                });
                Parallel.forEach(rowBlocks * chunkCount, task -> {
                    int i0 = (task / chunkCount) * mcMax, mc = Math.min(mcMax, m - i0);
                    int jpStart = (task % chunkCount) * panelsPerChunk, jpEnd = Math.min(panels, jpStart + panelsPerChunk);
                    Workspace ws = WORKSPACE.get();
                    int micro = ceilDiv(mc, mr);
                    float[] aPack = ws.a(micro * mr * kc);
                    float[] acc = ws.tile(mr * nr);
                    for (int ip = 0; ip < micro; ip++) a.packRows(i0 + ip * mr, Math.min(mr, mc - ip * mr), pBase, kc, mr, aPack, ip * kc * mr);
                    for (int jp = jpStart; jp < jpEnd; jp++) {
                        int j = jBase + jp * nr, cols = Math.min(nr, nc - jp * nr);
                        for (int ip = 0; ip < micro; ip++) {
                            int i = i0 + ip * mr, rows = Math.min(mr, m - i);
                            tile.multiply(aPack, ip * kc * mr, bPack, jp * kc * nr, kc, acc);
                            MicroKernels.store(tile, acc, rows, cols, c, cOff + i * ldc + j, ldc, first, accumulate,
                                    rowBias, i, colBias, j);
                        }
                    }
                });
            }
        }
    }

    /** k = 0: C = colBias + rowBias (+ C). */
    private static void biasOnly(int m, int n, MemorySegment c, long cOff, long ldc, float[] rowBias, float[] colBias,
                                 boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                long at = cOff + i * ldc + j;
                float v = 0f;
                if (colBias != null) v += colBias[j];
                if (rowBias != null) v += rowBias[i];
                if (accumulate) v += c.getAtIndex(Kernels.F32, at);
                c.setAtIndex(Kernels.F32, at, v);
            }
        }
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    static int roundUp(int a, int multiple) {
        return ceilDiv(a, multiple) * multiple;
    }

    /** Per-thread packing buffers, grown on demand and reused across calls. */
    private static final class Workspace {
        private float[] a = new float[0], b = new float[0], tile = new float[0];

        float[] a(int size) {
            if (a.length < size) a = new float[size];
            return a;
        }

        float[] b(int size) {
            if (b.length < size) b = new float[size];
            return b;
        }

        float[] tile(int size) {
            if (tile.length < size) tile = new float[size];
            return tile;
        }
    }
}
