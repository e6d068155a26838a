package dev.zoetrope.bench;

import dev.zoetrope.core.Backend;
import dev.zoetrope.core.BufferPool;
import dev.zoetrope.core.DType;
import dev.zoetrope.core.Json;
import dev.zoetrope.core.Ops;
import dev.zoetrope.core.Parallel;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.cpu.CpuBackend;
import dev.zoetrope.models.unet.UNet2DConditionConfig;
import dev.zoetrope.models.unet.UNet2DConditionModel;
import dev.zoetrope.models.vae.AutoencoderKL;
import dev.zoetrope.models.vae.AutoencoderKLConfig;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * {@code zoe bench unet}: one classifier-free-guidance step of the Stable Diffusion 1.5 UNet (its real config.json,
 * random weights made in memory) at 64×64 latents, batch 2 (= one 512×512 image with guidance), and the SD 1.5 VAE
 * decode of one 512×512 image: seconds, achieved GFLOP/s (convolution, linear and attention FLOPs of the direct
 * algorithms, counted on a warm-up run: 3×3 convolutions run as Winograd F(4×4, 3×3) do fewer multiply-adds, so the
 * figure is an effective rate, the one PyTorch's timings are compared on) next to the GEMM peak measured in the same run, and peak memory. The last line is
 * {@code unet_fraction_of_gemm_peak=<x>}.
 */
public final class UnetBenchmark {
    /** stable-diffusion-v1-5/unet/config.json (the fields diffusers reads; the rest are its defaults). */
    static final String SD15_UNET_CONFIG = """
            {"_class_name": "UNet2DConditionModel", "act_fn": "silu", "attention_head_dim": 8,
             "block_out_channels": [320, 640, 1280, 1280], "center_input_sample": false, "cross_attention_dim": 768,
             "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
             "downsample_padding": 1, "flip_sin_to_cos": true, "freq_shift": 0, "in_channels": 4, "layers_per_block": 2,
             "mid_block_scale_factor": 1, "norm_eps": 1e-05, "norm_num_groups": 32, "out_channels": 4, "sample_size": 64,
             "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]}
            """;

    /** stable-diffusion-v1-5/vae/config.json. */
    static final String SD15_VAE_CONFIG = """
            {"_class_name": "AutoencoderKL", "act_fn": "silu", "block_out_channels": [128, 256, 512, 512],
             "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
             "in_channels": 3, "latent_channels": 4, "layers_per_block": 2, "norm_num_groups": 32, "out_channels": 3,
             "sample_size": 512,
             "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"]}
            """;

    private static final double GIB = 1024.0 * 1024 * 1024;

    private UnetBenchmark() {
    }

    /**
     * @param threads compute threads (0: the pool's default)
     * @param repeats timed runs after the warm-up; best and median are reported
     * @param dtype   weight storage type (F32 as diffusers on CPU, or F16/BF16)
     * @param profile after the timed runs, one more run per model timing every op (a table of where time goes)
     * @param unet    measure the UNet step
     * @param vae     measure the VAE decode
     */
    public record Options(int threads, int repeats, DType dtype, boolean profile, boolean unet, boolean vae) {
        public Options(int threads, int repeats, DType dtype) {
            this(threads, repeats, dtype, false, true, true);
        }

        public Options {
            if (!unet && !vae) throw new IllegalArgumentException("nothing to measure: neither the UNet nor the VAE");
            if (threads < 0) throw new IllegalArgumentException("threads must be ≥ 0, got " + threads);
            if (repeats < 1) throw new IllegalArgumentException("repeats must be ≥ 1, got " + repeats);
            if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.BF16) {
                throw new IllegalArgumentException("weights must be F32, F16 or BF16, got " + dtype);
            }
        }
    }

    /** A measured model call. */
    record Measured(double bestSeconds, double medianSeconds, double flops, double convFlops, double linearFlops,
                    double attentionFlops, long peakActivationBytes, double outputStd) {
        double gflops() {
            return flops / bestSeconds / 1e9;
        }
    }

    /** Runs the benchmark, printing the report to {@code out}; returns the UNet's fraction of the GEMM peak. */
    public static double run(Options options, PrintStream out) {
        int savedThreads = Parallel.threads();
        if (options.threads() > 0) Parallel.setThreads(options.threads());
        try {
            out.println("zoe bench unet: Stable Diffusion 1.5 UNet + VAE decoder (real configs, random " + options.dtype()
                    + " weights made in memory)");
            out.println("machine: " + cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " cores, "
                    + Parallel.threads() + " compute threads, Java " + Runtime.version() + ", backend " + Ops.backend().name());
            out.println("timing: wall clock, best of " + options.repeats() + " runs after one warm-up (median in brackets)");

            double peak = gemmPeak(options.repeats(), out);

            UNet2DConditionConfig unetConfig = UNet2DConditionConfig.parse(Json.Obj.of(Json.parse(SD15_UNET_CONFIG)),
                    "stable-diffusion-v1-5/unet/config.json");
            Measured unet = null;
            if (options.unet()) try (Scope weights = Scope.open(); RandomWeights w = new RandomWeights("SD 1.5 unet", options.dtype())) {
                UNet2DConditionModel model = UNet2DConditionModel.of(unetConfig, w);
                out.printf(Locale.ROOT, "%nUNet: %.1fM parameters, %.2f GiB of weights; latents [2, 4, 64, 64], timestep 999,"
                                + " text [2, 77, 768]%n", w.parameters() / 1e6, w.bytes() / GIB);
                Tensor sample = random(21, 2, 4, 64, 64);
                Tensor context = random(22, 2, 77, 768);
                unet = measure(() -> model.forward(sample, 999f, context), options.repeats());
                report("UNet forward (one CFG step)", unet, peak, out);
                out.printf(Locale.ROOT, "  %-30s %.2f GiB (Winograd filters; -Dzoetrope.weightCache=<bytes> bounds it)%n",
                        "derived weights cached", CpuBackend.derivedWeightBytes() / GIB);
                if (options.profile()) profile(() -> model.forward(sample, 999f, context), out);
            }

            AutoencoderKLConfig vaeConfig = AutoencoderKLConfig.parse(Json.Obj.of(Json.parse(SD15_VAE_CONFIG)),
                    "stable-diffusion-v1-5/vae/config.json");
            if (options.vae()) try (Scope weights = Scope.open(); RandomWeights w = new RandomWeights("SD 1.5 vae", options.dtype())) {
                AutoencoderKL model = AutoencoderKL.of(vaeConfig, w);
                out.printf(Locale.ROOT, "%nVAE: %.1fM parameters (encoder and decoder); latents [1, 4, 64, 64] → image"
                        + " [1, 3, 512, 512]%n", w.parameters() / 1e6);
                Tensor latents = random(23, 1, 4, 64, 64);
                Measured vae = measure(() -> model.decode(latents), options.repeats());
                report("VAE decode 512×512", vae, peak, out);
                out.printf(Locale.ROOT, "  %-30s %.2f GiB%n", "derived weights cached", CpuBackend.derivedWeightBytes() / GIB);
                if (options.profile()) profile(() -> model.decode(latents), out);
            }

            out.println();
            out.printf(Locale.ROOT, "process peak resident memory: %s%n", peakRss());
            if (unet == null) return Double.NaN;
            double fraction = unet.gflops() / peak;
            out.printf(Locale.ROOT, "unet_fraction_of_gemm_peak=%.3f%n", fraction);
            return fraction;
        } finally {
            Parallel.setThreads(savedThreads);
        }
    }

    /** Best SGEMM rate through Ops.matmul: 1024³ and the UNet's 3×3 320-channel conv as a GEMM (4096×320×2880). */
    private static double gemmPeak(int repeats, PrintStream out) {
        int[][] shapes = {{1024, 1024, 1024}, {4096, 320, 2880}};
        double peak = 0;
        StringBuilder line = new StringBuilder("GEMM peak (Ops.matmul, GFLOP/s):");
        try (Scope s = Scope.open()) {
            for (int[] shape : shapes) {
                int m = shape[0], n = shape[1], k = shape[2];
                Tensor a = random(31, m, k), b = random(32, k, n);
                GemmBenchmark.Timing t = GemmBenchmark.time(() -> discard(() -> Ops.matmul(a, b)), Math.max(3, repeats), 20);
                double gflops = 2.0 * m * n * k / t.best() / 1e9;
                peak = Math.max(peak, gflops);
                line.append(String.format(Locale.ROOT, "  %d×%d×%d %.1f", m, n, k, gflops));
            }
        }
        out.println(line.append(String.format(Locale.ROOT, "  → peak %.1f", peak)));
        return peak;
    }

    /** One warm-up run counting FLOPs and memory, then timed runs on the plain backend. */
    private static Measured measure(Supplier<Tensor> call, int repeats) {
        Backend plain = Ops.backend();
        CountingBackend counting = new CountingBackend(plain);
        long live = BufferPool.SHARED.liveBytes();
        BufferPool.SHARED.resetPeak();
        double std;
        Ops.setBackend(counting);
        try (Scope s = Scope.open()) {
            std = std(call.get().toFloatArray());
        } finally {
            Ops.setBackend(plain);
        }
        long activations = BufferPool.SHARED.peakBytes() - live;
        List<Double> times = new ArrayList<>();
        for (int r = 0; r < repeats; r++) {
            long start = System.nanoTime();
            discard(call);
            times.add((System.nanoTime() - start) / 1e9);
        }
        double[] sorted = times.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double median = sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
        return new Measured(sorted[0], median, counting.total(), counting.convFlops, counting.linearFlops,
                counting.attentionFlops, activations, std);
    }

    /** One more run with every op timed: where the time goes. */
    private static void profile(Supplier<Tensor> call, PrintStream out) {
        Backend plain = Ops.backend();
        ProfilingBackend profiling = new ProfilingBackend(plain);
        Ops.setBackend(profiling);
        long start = System.nanoTime();
        try {
            discard(call);
        } finally {
            Ops.setBackend(plain);
        }
        profiling.report((System.nanoTime() - start) / 1e9, 25, out);
    }

    private static void report(String what, Measured m, double peak, PrintStream out) {
        out.printf(Locale.ROOT, "  %-30s %.2f s (%.2f s)%n", what, m.bestSeconds(), m.medianSeconds());
        out.printf(Locale.ROOT, "  %-30s %.1f GFLOP (conv %.1f, linear/matmul %.1f, attention %.1f)%n", "FLOPs (direct algorithms)",
                m.flops() / 1e9, m.convFlops() / 1e9, m.linearFlops() / 1e9, m.attentionFlops() / 1e9);
        out.printf(Locale.ROOT, "  %-30s %.1f GFLOP/s (%.1f) = %.2f × GEMM peak%n", "achieved (effective)", m.gflops(),
                m.flops() / m.medianSeconds() / 1e9, m.gflops() / peak);
        out.printf(Locale.ROOT, "  %-30s %.2f GiB above the weights%n", "peak activation memory", m.peakActivationBytes() / GIB);
        out.printf(Locale.ROOT, "  %-30s std %.3g%s%n", "output", m.outputStd(),
                Double.isFinite(m.outputStd()) ? "" : "  (NOT FINITE: the figures above are suspect)");
    }

    private static void discard(Supplier<Tensor> op) {
        try (Scope s = Scope.open()) {
            op.get();
        }
    }

    private static double std(float[] v) {
        double mean = 0;
        for (float x : v) mean += x;
        mean /= v.length;
        double sq = 0;
        for (float x : v) sq += (x - mean) * (x - mean);
        return Math.sqrt(sq / v.length);
    }

    /** Deterministic standard-ish values in [-1, 1) for inputs. */
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

    private static String peakRss() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    String[] parts = line.substring(6).trim().split("\\s+");
                    return String.format(Locale.ROOT, "%.2f GiB (VmHWM)", Long.parseLong(parts[0]) * 1024 / GIB);
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return "unknown (no /proc/self/status)";
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).trim();
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return System.getProperty("os.arch");
    }
}
