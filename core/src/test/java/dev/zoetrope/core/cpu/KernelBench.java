package dev.zoetrope.core.cpu;

import dev.zoetrope.core.Backend.Interpolation;
import dev.zoetrope.core.Ops;
import dev.zoetrope.core.Parallel;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;

import java.util.Arrays;
import java.util.Random;
import java.util.function.Supplier;

/**
 * Figures for the non-GEMM kernels (not a unit test; never run by surefire). Each line: best and median
 * of N timed runs after warm-up, and the rate in GFLOP/s or GB/s (bytes read + written once).
 *
 * <pre>
 * ./mvnw -B -q -pl core test-compile
 * java --add-modules jdk.incubator.vector -cp core/target/classes:core/target/test-classes \
 *      dev.zoetrope.core.cpu.KernelBench [threads] [filter]
 * </pre>
 */
public final class KernelBench {
    private KernelBench() {
    }

    private static final java.lang.management.ThreadMXBean THREAD = java.lang.management.ManagementFactory.getThreadMXBean();

    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : Parallel.threads();
        String filter = args.length > 1 ? args[1] : "";
        Parallel.setThreads(threads);
        System.out.printf("backend %s, %d thread(s), %s%n", Ops.backend().name(), threads, Runtime.version());
        Random rnd = new Random(1);
        try (Scope s = Scope.open()) {
            for (int d : new int[] {40, 64, 16}) {
                int l = 4096, h = 8;
                Tensor q = TestData.random(rnd, 1f, 1, h, l, d), k = TestData.random(rnd, 1f, 1, h, l, d), v = TestData.random(rnd, 1f, 1, h, l, d);
                double flops = 4.0 * h * l * (double) l * d;
                bench(filter, "attention L=4096 H=8 D=" + d, flops, 0, 3, () -> Ops.attention(q, k, v));
            }
            {
                Tensor q = TestData.random(rnd, 1f, 1, 14, 1, 64), k = TestData.random(rnd, 1f, 1, 2, 2048, 64), v = TestData.random(rnd, 1f, 1, 2, 2048, 64);
                bench(filter, "attention decode Lq=1 Lk=2048 H=14/2 D=64", 4.0 * 14 * 2048 * 64, 0, 20, () -> Ops.attention(q, k, v, null, true, 0.125f));
            }
            {
                Tensor q = TestData.random(rnd, 1f, 8192, 8, 16, 40), k = TestData.random(rnd, 1f, 8192, 8, 16, 40), v = TestData.random(rnd, 1f, 8192, 8, 16, 40);
                bench(filter, "attention temporal B=8192 H=8 L=16 D=40", 4.0 * 8192 * 8 * 16 * 16 * 40, 0, 5, () -> Ops.attention(q, k, v));
            }
            Tensor x = TestData.random(rnd, 2f, 2, 320, 64, 64);
            long bytes = x.numel() * 4L;
            bench(filter, "groupNorm 32 groups [2,320,64,64]", 0, 2 * bytes, 10, () -> Ops.groupNorm(x, 32, null, null, 1e-5f));
            Tensor y = TestData.random(rnd, 2f, 2, 320, 64, 64);
            bench(filter, "add same shape [2,320,64,64]", 0, 3 * bytes, 10, () -> Ops.add(x, y));
            Tensor bias = TestData.random(rnd, 1f, 1, 320, 1, 1);
            bench(filter, "add channel bias [2,320,64,64]+[1,320,1,1]", 0, 2 * bytes, 10, () -> Ops.add(x, bias));
            for (var op : new dev.zoetrope.core.Backend.Unary[] {dev.zoetrope.core.Backend.Unary.SILU,
                    dev.zoetrope.core.Backend.Unary.GELU_ERF, dev.zoetrope.core.Backend.Unary.EXP, dev.zoetrope.core.Backend.Unary.GELU_TANH}) {
                bench(filter, op + " [2,320,64,64]", 0, 2 * bytes, 10, () -> Ops.unary(op, x));
            }
            Tensor tokens = TestData.random(rnd, 2f, 2, 4096, 320);
            Tensor w = TestData.random(rnd, 1f, 320), b = TestData.random(rnd, 1f, 320);
            bench(filter, "layerNorm [2,4096,320]", 0, 2 * bytes, 10, () -> Ops.layerNorm(tokens, w, b, 1e-5f));
            bench(filter, "rmsNorm [2,4096,320]", 0, 2 * bytes, 10, () -> Ops.rmsNorm(tokens, w, 1e-6f));
            Tensor scores = TestData.random(rnd, 4f, 8, 1024, 1024);
            bench(filter, "softmax [8,1024,1024]", 0, 2 * scores.numel() * 4L, 10, () -> Ops.softmax(scores));
            Tensor small = TestData.random(rnd, 1f, 2, 640, 32, 32);
            bench(filter, "upsample nearest 2x [2,640,32,32]", 0, 5 * small.numel() * 4L, 10, () -> Ops.upsampleNearest(small, 2));
            bench(filter, "bilinear 2x [2,640,32,32]", 0, 5 * small.numel() * 4L, 10,
                    () -> Ops.interpolate(small, 64, 64, Interpolation.BILINEAR, false));
            Tensor qh = TestData.random(rnd, 1f, 1, 14, 1024, 64);
            long[] pos = new long[1024];
            for (int i = 0; i < pos.length; i++) pos[i] = i;
            bench(filter, "rope [1,14,1024,64]", 0, 2 * qh.numel() * 4L, 10, () -> Ops.rope(qh, pos, 1e6));
            Tensor logits = TestData.random(rnd, 5f, 1, 151655);
            bench(filter, "topk 50 of 151655", 0, logits.numel() * 4L, 20, () -> Ops.topk(logits, 50)[0]);
            Tensor a = TestData.random(rnd, 1f, 2, 640, 32, 32), c = TestData.random(rnd, 1f, 2, 640, 32, 32);
            bench(filter, "concat dim 1 [2,640,32,32]x2", 0, 4 * a.numel() * 4L, 10, () -> Ops.concat(1, a, c));
        }
    }

    private static void bench(String filter, String name, double flops, double bytes, int runs, Supplier<Tensor> op) {
        if (!name.contains(filter)) return;
        for (int i = 0; i < Math.max(3, runs / 2); i++) {
            try (Scope s = Scope.open()) {
                op.get();
            }
        }
        double[] t = new double[runs], cpu = new double[runs];
        for (int i = 0; i < runs; i++) {
            try (Scope s = Scope.open()) {
                long c0 = THREAD.getCurrentThreadCpuTime();
                long t0 = System.nanoTime();
                op.get();
                t[i] = (System.nanoTime() - t0) / 1e9;
                cpu[i] = (THREAD.getCurrentThreadCpuTime() - c0) / 1e9;
            }
        }
        Arrays.sort(t);
        Arrays.sort(cpu);
        double best = t[0], median = t[runs / 2];
        String rate = flops > 0 ? String.format("%7.1f GFLOP/s", flops / best / 1e9) : String.format("%7.2f GB/s", bytes / best / 1e9);
        // With one thread all work runs on this thread, so its CPU time excludes time lost to other processes.
        String cpuRate = Parallel.threads() != 1 ? "" : flops > 0 ? String.format("  (CPU time %.3f ms, %.1f GFLOP/s)", cpu[0] * 1e3, flops / cpu[0] / 1e9)
                : String.format("  (CPU time %.3f ms, %.2f GB/s)", cpu[0] * 1e3, bytes / cpu[0] / 1e9);
        System.out.printf("%-48s best %9.3f ms  median %9.3f ms  %s%s%n", name, best * 1e3, median * 1e3, rate, cpuRate);
    }
}
