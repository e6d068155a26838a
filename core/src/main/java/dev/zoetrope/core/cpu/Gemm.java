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
 * <p>Blocked in the GotoBLAS/BLIS manner, with the K loop inside the tasks: for each block of columns (as
 * many as keep B, packed over the whole of K into kc × nr panels, within {@link #B_BUDGET}: L3), tasks over
 * (a block of mc rows × a group of panels) run the K blocks in order, each time packing their A slice into
 * mr × kc micro-panels and sweeping them (L2) past one B panel at a time (L1), adding each tile into their C
 * block; mc is sized so C block and A slice share L2 ({@link #L2_BUDGET}). K is never split across
 * threads: a C element accumulates its K blocks in order, each block by one micro-kernel lane, so results
 * are bit-identical for any thread count. At most {@link Gemv#MAX_ROWS} rows
 * take the streaming GEMV path instead. The register tile is chosen from the vector species
 * ({@code -Dzoetrope.gemm.tile=V4X2|V9X2} overrides it, for measuring on a new machine).
 */
public final class Gemm {
    private Gemm() {
    }

    /** Floats of B packed at once (over the whole of K): 8 MiB, shared by the threads in L3. */
    static final int B_BUDGET = 2 << 20;
    /**
     * Floats of a task's C block plus its A slice: 320 KiB, so they stay in L2 beside the B panels (also on
     * 512 KiB L2s) and a product splits into enough tasks to balance two threads (640 KiB gave 10 tasks for
     * 1024³ and measured ~7% slower with 2 threads, no faster with 1).
     */
    static final int L2_BUDGET = 80 << 10;
    /** The register tile this machine uses, chosen once from the vector species. */
    static final Tile TILE = Tile.preferred();

    /** The blocking in use, for benchmark reports: e.g. "tile 4×16 (vector 8×f32), kc 384, mc ≤ 256". */
    public static String configuration() {
        String kind = TILE.vector ? "vector " + Kernels.FLOATS + "×f32" : "scalar";
        return "tile " + TILE.mr + "×" + TILE.nr + " (" + kind + "), kc " + TILE.kc + ", mc ≤ " + TILE.mc;
    }

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
        checkExtent("A", a, aType, aOff, m, k, aRowStride, aColStride);
        checkExtent("B", b, bType, bOff, k, n, bRowStride, bColStride);
        checkExtent("C", c, DType.F32, cOff, m, n, ldc, 1);
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

    /** The last element a [rows × cols] operand reaches must lie inside its segment. */
    private static void checkExtent(String name, MemorySegment s, DType type, long offset, int rows, int cols,
                                    long rowStride, long colStride) {
        if (rows == 0 || cols == 0) return;
        if (s == null) throw new IllegalArgumentException("gemm: no memory for " + name);
        if (offset < 0 || rowStride < 0 || colStride < 0) {
            throw new IllegalArgumentException("gemm: " + name + " needs a non-negative offset and strides, got offset "
                    + offset + ", strides (" + rowStride + ", " + colStride + ")");
        }
        long last = offset + (rows - 1) * rowStride + (cols - 1) * colStride;
        long available = s.byteSize() / type.byteSize();
        if (last >= available) {
            throw new IllegalArgumentException("gemm: " + name + " [" + rows + "×" + cols + "] at offset " + offset
                    + " with strides (" + rowStride + ", " + colStride + ") reaches element " + last + ", but its memory holds "
                    + available + " " + type + " elements");
        }
    }

    /** The blocked product with any panel sources (e.g. an implicit im2col for B) and a given register tile. */
    static void multiply(int m, int n, int k, Panels.A a, Panels.B b, MemorySegment c, long cOff, long ldc,
                         float[] rowBias, float[] colBias, boolean accumulate, Tile tile) {
        multiply(m, n, k, a, b, c, cOff, ldc, rowBias, colBias, accumulate, tile, tile.kc, L2_BUDGET, B_BUDGET);
    }

    /** {@link #multiply} with explicit blocking, for measuring alternatives. */
    static void multiply(int m, int n, int k, Panels.A a, Panels.B b, MemorySegment c, long cOff, long ldc,
                         float[] rowBias, float[] colBias, boolean accumulate, Tile tile, int kcTarget, int l2Budget,
                         int bBudget) {
        if (m == 0 || n == 0) return;
        if (k == 0) {
            biasOnly(m, n, c, cOff, ldc, rowBias, colBias, accumulate);
            return;
        }
        int mr = tile.mr, nr = tile.nr;
        if ((long) k * nr > Integer.MAX_VALUE / 2) throw new IllegalArgumentException("gemm: k = " + k + " is too large");
        // K blocks depend on k and the tile only: they fix the order of additions. The rest only affects speed.
        int kBlocks = ceilDiv(k, kcTarget), kcMax = ceilDiv(k, kBlocks);
        // Column blocks narrow enough that B packed over the whole of K stays within the L3 budget.
        int ncCap = Math.max(nr, bBudget / k / nr * nr);
        int nBlocks = ceilDiv(n, ncCap), ncMax = roundUp(ceilDiv(n, nBlocks), nr);
        int threads = Parallel.threads();
        // Rows per task: its C block (mc × nc) and its A slice (mc × kc) together stay in L2.
        int mcCap = Math.max(mr, Math.min(tile.mc, l2Budget / (ncMax + kcMax)) / mr * mr);
        int microPanels = ceilDiv(m, mr);
        int mBlocks = ceilDiv(m, mcCap);
        if (threads > 1 && mBlocks < 4 * threads) mBlocks = Math.min(microPanels, roundUp(mBlocks, threads));
        int mcMax = balancedPanels(microPanels, ceilDiv(microPanels, mBlocks), threads) * mr;
        int rowBlocks = ceilDiv(m, mcMax);
        float[] bPack = WORKSPACE.get().b(k * ncMax);
        for (int j0 = 0; j0 < n; j0 += ncMax) {
            int nc = Math.min(ncMax, n - j0), panels = ceilDiv(nc, nr);
            // A task owns a block of rows and a group of panels; with enough row blocks, all panels.
            int groups = rowBlocks >= threads ? 1 : Math.min(panels, ceilDiv(threads, rowBlocks));
            int panelsPerGroup = ceilDiv(panels, groups);
            int groupCount = ceilDiv(panels, panelsPerGroup);
            int jBase = j0;
            // B[0:k, j0:j0+nc] as panels, K block after K block: block pb starts at p0·panels·nr.
            Parallel.forRange((long) kBlocks * panels, 4, (s, e) -> {
                for (long item = s; item < e; item++) {
                    int pb = (int) (item / panels), jp = (int) (item % panels);
                    int p0 = pb * kcMax, kc = Math.min(kcMax, k - p0);
                    b.packColumns(p0, kc, jBase + jp * nr, Math.min(nr, nc - jp * nr), nr, bPack, (p0 * panels + jp * kc) * nr);
                }
            });
            Parallel.forEach(rowBlocks * groupCount, task -> {
                int i0 = (task / groupCount) * mcMax, mc = Math.min(mcMax, m - i0);
                int jpStart = (task % groupCount) * panelsPerGroup, jpEnd = Math.min(panels, jpStart + panelsPerGroup);
                Workspace ws = WORKSPACE.get();
                int micro = ceilDiv(mc, mr);
                int panelSize = mr * MicroKernels.PITCH;
                float[] aPack = ws.a(micro * panelSize);
                float[] acc = ws.tile(mr * nr);
                MemorySegment accSegment = ws.tileSegment();
                for (int p0 = 0; p0 < k; p0 += kcMax) {
                    int kc = Math.min(kcMax, k - p0);
                    boolean first = p0 == 0;
                    for (int ip = 0; ip < micro; ip++) {
                        a.packRows(i0 + ip * mr, Math.min(mr, mc - ip * mr), p0, kc, mr, MicroKernels.PITCH, aPack, ip * panelSize);
                    }
                    for (int jp = jpStart; jp < jpEnd; jp++) {
                        int j = jBase + jp * nr, cols = Math.min(nr, nc - jp * nr);
                        int bOff = (p0 * panels + jp * kc) * nr;
                        for (int ip = 0; ip < micro; ip++) {
                            int i = i0 + ip * mr, rows = Math.min(mr, m - i);
                            long at = cOff + i * ldc + j;
                            if (tile.vector && rows == mr && cols == nr) {
                                tile.multiplyInto(aPack, ip * panelSize, bPack, bOff, kc, c, at, ldc, !first || accumulate,
                                        first ? colBias : null, j, first ? rowBias : null, i, acc);
                            } else {
                                tile.multiply(aPack, ip * panelSize, bPack, bOff, kc, acc, accSegment);
                                MicroKernels.store(tile, acc, rows, cols, c, at, ldc, first, accumulate, rowBias, i, colBias, j);
                            }
                        }
                    }
                }
            });
        }
    }

    /**
     * Micro-panels per row block, at most {@code most} and at least half of it, chosen so the threads finish
     * together: the fewest micro-panels on the busiest thread (1024 rows of 9 and at most 4 per block make 29
     * blocks, 15 + 14 for two threads; 3 per block make 38, 19 + 19). Only the split of rows changes, never
     * the order of additions, so results stay the same for any thread count.
     */
    static int balancedPanels(int microPanels, int most, int threads) {
        if (threads <= 1) return most;
        int best = most;
        long bestCost = Long.MAX_VALUE;
        for (int p = most; p >= Math.max(1, most / 2); p--) {
            long cost = (long) ceilDiv(ceilDiv(microPanels, p), threads) * p;
            if (cost < bestCost) {
                bestCost = cost;
                best = p;
            }
        }
        return best;
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
        private MemorySegment tileSegment = MemorySegment.ofArray(tile);

        float[] a(int size) {
            if (a.length < size) a = new float[size];
            return a;
        }

        float[] b(int size) {
            if (b.length < size) b = new float[size];
            return b;
        }

        float[] tile(int size) {
            if (tile.length < size) {
                tile = new float[size];
                tileSegment = MemorySegment.ofArray(tile);
            }
            return tile;
        }

        /** The scratch tile as a segment, for kernels that write to memory. */
        MemorySegment tileSegment() {
            return tileSegment;
        }
    }
}
