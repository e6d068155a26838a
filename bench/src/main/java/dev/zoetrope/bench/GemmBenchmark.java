package dev.zoetrope.bench;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Ops;
import dev.zoetrope.core.Parallel;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.cpu.Gemm;
import dev.zoetrope.core.cpu.Kernels;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * {@code zoe bench gemm}: Zoetrope's SGEMM against OpenBLAS on the same operands, runs interleaved so both
 * see the same machine load, for each thread count; then conv2d, attention and group norm figures next to
 * that thread count's GEMM peak, and the weight stream of a one-token BF16 linear (LLM decode). The last
 * line is {@code gemm_ratio_vs_openblas=<smallest ratio>} (NaN when OpenBLAS is not installed).
 */
public final class GemmBenchmark {
    private GemmBenchmark() {
    }

    /** M×N×K of the measured products: a square one and the SD UNet's 3×3 320-channel conv as a GEMM. */
    private static final int[][] SHAPES = {{1024, 1024, 1024}, {4096, 320, 2880}};

    /**
     * @param threads       thread counts to measure (Zoetrope's pool and OpenBLAS alike)
     * @param repeats       timed runs per figure (after warm-up); the best and the median are reported
     * @param openblasPath  an explicit libopenblas path, or null to search the usual names
     * @param budgetSeconds cap on the timed runs of one slow op (attention), so a slow kernel cannot stall the run
     */
    public record Options(int[] threads, int repeats, String openblasPath, double budgetSeconds) {
        public Options {
            if (threads.length == 0) throw new IllegalArgumentException("no thread counts given");
            for (int t : threads) if (t < 1) throw new IllegalArgumentException("thread counts must be ≥ 1, got " + t);
            if (repeats < 1) throw new IllegalArgumentException("repeats must be ≥ 1, got " + repeats);
        }
    }

    /** Best and median of the timed runs, in seconds. */
    record Timing(double best, double median) {
    }

    /** Runs the benchmark, printing the report to {@code out}; returns the smallest Zoetrope/OpenBLAS ratio. */
    public static double run(Options options, PrintStream out) {
        List<String> problems = new ArrayList<>();
        Optional<OpenBlas> blas = OpenBlas.load(options.openblasPath(), problems);
        int savedThreads = Parallel.threads();
        out.println("zoe bench gemm: Zoetrope " + Gemm.configuration());
        out.println("machine: " + cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " cores, Java "
                + Runtime.version());
        if (blas.isPresent()) {
            String config = blas.get().config();
            out.println("OpenBLAS: " + config + " (" + blas.get().library() + ")");
            if (Kernels.FLOATS >= 16 && config.matches(".*\\b(Haswell|Zen)\\b.*")) {
                // OpenBLAS 0.3.21 does not know newer AVX-512 AMD parts and falls back to its AVX2 kernels
                out.println("  note: this CPU has AVX-512 but OpenBLAS chose its AVX2 kernels;"
                        + " OPENBLAS_CORETYPE=SkylakeX makes it use its AVX-512 ones");
            }
        } else {
            out.println("OpenBLAS: not found (" + String.join("; ", problems) + ")");
            out.println("  install it to compare: apt-get install libopenblas0-pthread   (Fedora: dnf install openblas-pthreads,"
                    + " macOS: brew install openblas), or pass --openblas /path/to/libopenblas.so");
        }
        out.println("timing: wall clock, best of " + options.repeats() + " runs after warm-up (~1 s of runs; median in brackets);"
                + " Zoetrope and OpenBLAS runs interleaved (one by one with 1 thread, in blocks of a quarter after a"
                + " pause with more, so neither runs against the other's spinning workers). With 1 thread both run"
                + " on the calling thread, so the ratio of its CPU time is shown too: it stays meaningful when other"
                + " processes load the machine.");
        double smallest = Double.POSITIVE_INFINITY;
        try {
            for (int threads : options.threads()) {
                Parallel.setThreads(threads);
                blas.ifPresent(b -> b.setThreads(threads));
                out.println();
                out.printf("threads %d%n", threads);
                out.printf("  %-28s %18s %18s %7s %9s %10s%n", "SGEMM M×N×K", "Zoetrope GFLOP/s", "OpenBLAS GFLOP/s", "ratio",
                        "CPU ratio", "rel. diff");
                double peak = 0;
                for (int[] shape : SHAPES) {
                    double[] result = compareGemm(shape, blas, options.repeats(), out);
                    peak = Math.max(peak, result[0]);
                    if (blas.isPresent()) smallest = Math.min(smallest, result[1]);
                }
                otherOps(options, peak, out);
            }
        } finally {
            Parallel.setThreads(savedThreads);
        }
        double ratio = blas.isPresent() ? smallest : Double.NaN;
        out.println();
        out.println("gemm_ratio_vs_openblas=" + (Double.isNaN(ratio) ? "NaN" : String.format("%.2f", ratio)));
        return ratio;
    }

    /** Returns {Zoetrope best GFLOP/s, ratio Zoetrope/OpenBLAS (NaN without OpenBLAS)}. */
    private static double[] compareGemm(int[] shape, Optional<OpenBlas> blas, int repeats, PrintStream out) {
        int m = shape[0], n = shape[1], k = shape[2];
        double flops = 2.0 * m * n * k;
        try (Scope scope = Scope.open()) {
            Tensor a = random(1, m, k), b = random(2, k, n);
            Tensor cZoe = Tensor.empty(DType.F32, m, n), cBlas = Tensor.empty(DType.F32, m, n);
            Runnable zoe = () -> Gemm.gemm(m, n, k, a.segment(), 0, k, 1, b.segment(), DType.F32, 0, n, 1,
                    cZoe.segment(), 0, n, null, false);
            Runnable ref = blas.<Runnable>map(lib -> () -> lib.sgemm(m, n, k, a.segment(), b.segment(), cBlas.segment()))
                    .orElse(null);
            Timing[] t = timeInterleaved(zoe, ref, repeats);
            String name = m + "×" + n + "×" + k;
            String zoeFigure = gflops(flops, t[0]);
            if (ref == null) {
                out.printf("  %-28s %18s %18s %7s %9s %10s%n", name, zoeFigure, "-", "-", "-", "-");
                return new double[] {flops / t[0].best() / 1e9, Double.NaN};
            }
            double ratio = t[1].best() / t[0].best();
            boolean cpuTimed = Parallel.threads() == 1 && ManagementFactory.getThreadMXBean().isCurrentThreadCpuTimeSupported();
            String cpuRatio = cpuTimed ? String.format("%.2f", t[3].best() / t[2].best()) : "-";
            double diff = relativeDifference(cZoe.segment(), cBlas.segment(), (long) m * n);
            out.printf("  %-28s %18s %18s %7.2f %9s %10.1e%n", name, zoeFigure, gflops(flops, t[1]), ratio, cpuRatio, diff);
            return new double[] {flops / t[0].best() / 1e9, ratio};
        }
    }

    private static void otherOps(Options options, double peak, PrintStream out) {
        out.printf("  %-48s %22s   (GEMM peak of this run: %.1f GFLOP/s)%n", "other ops", "Zoetrope", peak);
        try (Scope scope = Scope.open()) {
            // conv2d 3×3, 320→320 channels, 64×64, batch 1, padding 1 (the SD UNet's first-level conv).
            Tensor x = random(3, 1, 320, 64, 64), w = random(4, 320, 320, 3, 3), bias = random(5, 320);
            Timing conv = time(() -> run(() -> Ops.conv2d(x, w, bias, 1, 1)), options.repeats(), options.budgetSeconds());
            double convFlops = 2.0 * 320 * 320 * 9 * 64 * 64;
            out.printf("  %-48s %22s   %.2f × GEMM peak%n", "conv2d 3×3 320→320, 64×64, batch 1", gflops(convFlops, conv),
                    convFlops / conv.best() / 1e9 / peak);

            // Self-attention over 4096 tokens, 8 heads of 40 (SD UNet level 1): 4·H·L²·D flops.
            Tensor q = random(6, 1, 8, 4096, 40), k = random(7, 1, 8, 4096, 40), v = random(8, 1, 8, 4096, 40);
            Timing attn = time(() -> run(() -> Ops.attention(q, k, v)), options.repeats(), options.budgetSeconds());
            double attnFlops = 4.0 * 8 * 4096.0 * 4096 * 40;
            out.printf("  %-48s %22s   %.2f × GEMM peak%n", "attention 4096 tokens, 8 heads × 40", gflops(attnFlops, attn),
                    attnFlops / attn.best() / 1e9 / peak);

            // GroupNorm, 32 groups over [2, 320, 64, 64]: memory-bound, reported as bytes read + written.
            Tensor g = random(9, 2, 320, 64, 64), gw = random(10, 320), gb = random(11, 320);
            Timing norm = time(() -> run(() -> Ops.groupNorm(g, 32, gw, gb, 1e-5f)), options.repeats(), options.budgetSeconds());
            double bytes = 2.0 * g.numel() * Float.BYTES;
            out.printf("  %-48s %22s%n", "group norm 32 groups, [2, 320, 64, 64]",
                    String.format("%.1f (%.1f) GB/s", bytes / norm.best() / 1e9, bytes / norm.median() / 1e9));

            // An LLM decode step's linear: one token through a BF16 weight [4864, 896] (Qwen2-0.5B MLP). Eight
            // copies are cycled so the weight streams from memory as in decoding, reported as weight bytes read.
            Tensor token = random(12, 1, 896);
            Tensor[] weights = new Tensor[8];
            for (int i = 0; i < weights.length; i++) weights[i] = random(13 + i, 4864, 896).to(DType.BF16);
            int[] next = {0};
            Timing decode = time(() -> run(() -> Ops.linear(token, weights[next[0]++ % weights.length])),
                    Math.max(options.repeats(), 4 * weights.length), options.budgetSeconds());
            double weightBytes = 4864.0 * 896 * 2;
            out.printf("  %-48s %22s%n", "linear 1 token × BF16 weight [4864, 896]",
                    String.format("%.1f (%.1f) GB/s", weightBytes / decode.best() / 1e9, weightBytes / decode.median() / 1e9));
        }
    }

    /** Runs an op in its own scope so its output is released at once. */
    private static void run(java.util.function.Supplier<Tensor> op) {
        try (Scope s = Scope.open()) {
            op.get();
        }
    }

    private static String gflops(double flops, Timing t) {
        return String.format("%.1f (%.1f)", flops / t.best() / 1e9, flops / t.median() / 1e9);
    }

    /**
     * Warm-up, then {@code repeats} timed runs of a and of b (b may be null), alternating: run by run with one
     * thread, block by block with several: {wall a, wall b, calling thread's CPU time a, CPU time b}.
     */
    static Timing[] timeInterleaved(Runnable a, Runnable b, int repeats) {
        // Warm up for at least 3 runs and 2 s: the JIT compiles in background threads that would otherwise
        // compete with the first timed runs for the cores.
        long warmUntil = System.nanoTime() + 2_000_000_000L;
        for (int i = 0; i < 3 || System.nanoTime() < warmUntil; i++) {
            a.run();
            if (b != null) b.run();
        }
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        double[] ta = new double[repeats], tb = new double[repeats], ca = new double[repeats], cb = new double[repeats];
        // With several threads each library's idle workers spin after a call (OpenBLAS's for ~2^28 cycles, ours
        // for 2 ms), so right after the other library a run competes with its spinning threads (Zoetrope's
        // 2-thread GEMM measured ~170 instead of ~340 GFLOP/s that way). So the runs go in blocks of a quarter,
        // each after a pause that lets the other library's workers park and one untimed run that wakes this
        // one's: inside a block a library runs back to back, as in real use.
        boolean blocks = b != null && Parallel.threads() > 1;
        int block = blocks ? Math.max(1, repeats / 4) : 1;
        for (int r0 = 0; r0 < repeats; r0 += block) {
            int r1 = Math.min(repeats, r0 + block);
            timeRuns(a, r0, r1, blocks, ta, ca, cpu);
            if (b != null) timeRuns(b, r0, r1, blocks, tb, cb, cpu);
        }
        return b == null ? new Timing[] {summary(ta), null, summary(ca), null}
                : new Timing[] {summary(ta), summary(tb), summary(ca), summary(cb)};
    }

    /** Timed runs r0 … r1 - 1 of op into wall[] and cpu[], after a pause and an untimed run when {@code settled}. */
    private static void timeRuns(Runnable op, int r0, int r1, boolean settled, double[] wall, double[] cpuTime,
                                 ThreadMXBean cpu) {
        if (settled) {
            settle();
            op.run();
        }
        for (int r = r0; r < r1; r++) {
            long c0 = cpu.getCurrentThreadCpuTime();
            wall[r] = seconds(op);
            cpuTime[r] = (cpu.getCurrentThreadCpuTime() - c0) / 1e9;
        }
    }

    /** 0.15 s: longer than OpenBLAS's worker spin (2^28 cycles) on any current clock. */
    private static void settle() {
        try {
            Thread.sleep(150);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Time each op runs before it is timed, when one run is short enough. */
    private static final double WARM_UP_SECONDS = 1.0;

    /** Warm-up (one run; ~1 s of runs when a run is short), then up to {@code repeats} timed runs within the budget. */
    static Timing time(Runnable op, int repeats, double budgetSeconds) {
        // Cheap ops take ~15 calls before every method they use is in C2 code: warm up for about a second.
        double warm = seconds(op);
        if (warm < budgetSeconds / 4) {
            int runs = 1;
            do {
                warm += seconds(op);
                runs++;
            } while (warm < Math.min(WARM_UP_SECONDS, budgetSeconds / 4) && runs < 1000);
        }
        List<Double> times = new ArrayList<>();
        double spent = 0;
        while (times.size() < repeats && (times.isEmpty() || spent < budgetSeconds)) {
            double t = seconds(op);
            times.add(t);
            spent += t;
        }
        return summary(times.stream().mapToDouble(Double::doubleValue).toArray());
    }

    private static double seconds(Runnable op) {
        long start = System.nanoTime();
        op.run();
        return (System.nanoTime() - start) / 1e9;
    }

    private static Timing summary(double[] times) {
        double[] sorted = times.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        return new Timing(sorted[0], median);
    }

    /** A tensor of the given shape with deterministic values in [-1, 1). */
    private static Tensor random(long seed, int... shape) {
        Tensor t = Tensor.empty(DType.F32, shape);
        MemorySegment s = t.segment();
        long state = seed * 0x9E3779B97F4A7C15L + 1;
        for (long i = 0, n = t.numel(); i < n; i++) {
            state = state * 6364136223846793005L + 1442695040888963407L;
            s.setAtIndex(ValueLayout.JAVA_FLOAT, i, ((state >>> 40) / (float) (1 << 24)) * 2 - 1);
        }
        return t;
    }

    private static double relativeDifference(MemorySegment x, MemorySegment y, long n) {
        double num = 0, den = 0;
        for (long i = 0; i < n; i++) {
            double a = x.getAtIndex(ValueLayout.JAVA_FLOAT, i), b = y.getAtIndex(ValueLayout.JAVA_FLOAT, i);
            num += (a - b) * (a - b);
            den += b * b;
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).trim();
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: fall through
        }
        return System.getProperty("os.arch");
    }
}
