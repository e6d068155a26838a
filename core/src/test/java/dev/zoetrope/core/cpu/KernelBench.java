package dev.zoetrope.core.cpu;

import dev.zoetrope.core.Backend.Interpolation;
import dev.zoetrope.core.Backend.Unary;
import dev.zoetrope.core.Ops;
import dev.zoetrope.core.Parallel;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Supplier;

/**
 * Figures for the non-GEMM kernels (a main, not a unit test; surefire never runs it). Each line: best and
 * median wall time of N runs after warm-up and the rate in GFLOP/s (attention: 4·B·H·Lq·Lk·D) or GB/s
 * (bytes read + written once). With one thread all work runs on the calling thread, so its best CPU time is
 * printed too: on a shared machine that figure is the stable one.
 *
 * <pre>
 * ./mvnw -B -q -pl core test-compile
 * java --add-modules jdk.incubator.vector -cp core/target/classes:core/target/test-classes \
 *      dev.zoetrope.core.cpu.KernelBench [threads] [name filter]
 * </pre>
 */
public final class KernelBench {
    private KernelBench() {
    }

    private static final ThreadMXBean THREAD = ManagementFactory.getThreadMXBean();
    private static final Random RND = new Random(1);

    private static Tensor rand(int... shape) {
        return TestData.random(RND, 1f, shape);
    }

    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : Parallel.threads();
        String filter = args.length > 1 ? args[1] : "";
        Parallel.setThreads(threads);
        System.out.printf("backend %s, %d thread(s), Java %s%n", Ops.backend().name(), threads, Runtime.version());
        try (Scope s = Scope.open()) {
            for (int d : new int[] {40, 64, 16}) {
                Tensor q = rand(1, 8, 4096, d), k = rand(1, 8, 4096, d), v = rand(1, 8, 4096, d);
                bench(filter, "attention L=4096 H=8 D=" + d, 4.0 * 8 * 4096 * 4096 * d, 0, 3, () -> Ops.attention(q, k, v));
            }
            Tensor cq = rand(2, 8, 4096, 40), ck = rand(2, 8, 77, 40), cv = rand(2, 8, 77, 40);
            bench(filter, "attention cross B=2 H=8 Lq=4096 Lk=77 D=40", 4.0 * 2 * 8 * 4096 * 77 * 40, 0, 10,
                    () -> Ops.attention(cq, ck, cv));
            Tensor dq = rand(1, 14, 1, 64), dk = rand(1, 2, 2048, 64), dv = rand(1, 2, 2048, 64);
            bench(filter, "attention decode Lq=1 Lk=2048 H=14/2 D=64", 4.0 * 14 * 2048 * 64, 0, 400,
                    () -> Ops.attention(dq, dk, dv, null, true, 0.125f));
            Tensor tq = rand(8192, 8, 16, 40), tk = rand(8192, 8, 16, 40), tv = rand(8192, 8, 16, 40);
            bench(filter, "attention temporal B=8192 H=8 L=16 D=40", 4.0 * 8192 * 8 * 16 * 16 * 40, 0, 5,
                    () -> Ops.attention(tq, tk, tv));

            // 3×3 "same" convolutions of the SD UNet (batch 2) and VAE decoder (batch 1): n, c, h, w, o; nominal FLOPs
            for (int[] cs : new int[][] {{2, 320, 64, 64, 320}, {2, 640, 32, 32, 640}, {2, 1280, 16, 16, 1280},
                    {2, 1280, 8, 8, 1280}, {2, 2560, 16, 16, 1280}, {1, 256, 256, 256, 256}, {1, 512, 64, 64, 512}}) {
                Tensor cx = rand(cs[0], cs[1], cs[2], cs[3]), cw = TestData.readOnly(rand(cs[4], cs[1], 3, 3)), cb = rand(cs[4]);
                double flops = 2.0 * cs[0] * cs[4] * cs[1] * 9 * cs[2] * cs[3];
                bench(filter, "conv2d 3x3 " + Arrays.toString(cs), flops, 0, 12, () -> Ops.conv2d(cx, cw, cb, 1, 1));
            }

            Tensor x = rand(2, 320, 64, 64), y = rand(2, 320, 64, 64), bias = rand(1, 320, 1, 1);
            long bytes = x.numel() * 4L;
            bench(filter, "groupNorm 32 groups [2,320,64,64]", 0, 2 * bytes, 10, () -> Ops.groupNorm(x, 32, null, null, 1e-5f));
            bench(filter, "add same shape [2,320,64,64]", 0, 3 * bytes, 10, () -> Ops.add(x, y));
            bench(filter, "add channel bias [2,320,64,64]+[1,320,1,1]", 0, 2 * bytes, 10, () -> Ops.add(x, bias));
            for (Unary op : new Unary[] {Unary.SILU, Unary.GELU_ERF, Unary.GELU_TANH, Unary.EXP}) {
                bench(filter, op + " [2,320,64,64]", 0, 2 * bytes, 10, () -> Ops.unary(op, x));
            }
            Tensor tokens = rand(2, 4096, 320), w = rand(320), b = rand(320);
            bench(filter, "layerNorm [2,4096,320]", 0, 2 * bytes, 10, () -> Ops.layerNorm(tokens, w, b, 1e-5f));
            bench(filter, "rmsNorm [2,4096,320]", 0, 2 * bytes, 10, () -> Ops.rmsNorm(tokens, w, 1e-6f));
            Tensor scores = rand(8, 1024, 1024);
            bench(filter, "softmax [8,1024,1024]", 0, 2 * scores.numel() * 4L, 10, () -> Ops.softmax(scores));
            Tensor small = rand(2, 640, 32, 32);
            bench(filter, "upsample nearest 2x [2,640,32,32]", 0, 5 * small.numel() * 4L, 10, () -> Ops.upsampleNearest(small, 2));
            bench(filter, "bilinear 2x [2,640,32,32]", 0, 5 * small.numel() * 4L, 10,
                    () -> Ops.interpolate(small, 64, 64, Interpolation.BILINEAR, false));
            Tensor heads = rand(1, 14, 1024, 64);
            long[] pos = new long[1024];
            Arrays.setAll(pos, i -> i);
            bench(filter, "rope [1,14,1024,64]", 0, 2 * heads.numel() * 4L, 10, () -> Ops.rope(heads, pos, 1e6));
            Tensor logits = rand(1, 151655);
            bench(filter, "topk 50 of 151655", 0, logits.numel() * 4L, 20, () -> Ops.topk(logits, 50)[0]);
            bench(filter, "concat dim 1 [2,640,32,32]x2", 0, 4 * small.numel() * 4L, 10, () -> Ops.concat(1, small, small));
        }
    }

    private static void bench(String filter, String name, double flops, double bytes, int runs, Supplier<Tensor> op) {
        if (!name.contains(filter)) return;
        for (int i = 0; i < Math.max(3, runs / 2); i++) {
            try (Scope s = Scope.open()) {
                op.get();
            }
        }
        double[] wall = new double[runs], cpu = new double[runs];
        for (int i = 0; i < runs; i++) {
            try (Scope s = Scope.open()) {
                long c0 = THREAD.getCurrentThreadCpuTime(), t0 = System.nanoTime();
                op.get();
                wall[i] = (System.nanoTime() - t0) / 1e9;
                cpu[i] = (THREAD.getCurrentThreadCpuTime() - c0) / 1e9;
            }
        }
        Arrays.sort(wall);
        Arrays.sort(cpu);
        String line = String.format("%-46s best %9.3f ms  median %9.3f ms  %s", name, wall[0] * 1e3, wall[runs / 2] * 1e3,
                rate(flops, bytes, wall[0]));
        if (Parallel.threads() == 1) line += String.format("  (CPU time %.3f ms, %s)", cpu[0] * 1e3, rate(flops, bytes, cpu[0]));
        System.out.println(line);
    }

    private static String rate(double flops, double bytes, double seconds) {
        return flops > 0 ? String.format("%6.1f GFLOP/s", flops / seconds / 1e9) : String.format("%6.2f GB/s", bytes / seconds / 1e9);
    }
}
