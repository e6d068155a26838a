package dev.zoetrope.cli;

import dev.zoetrope.bench.GemmBenchmark;
import dev.zoetrope.bench.LlmBenchmark;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code zoe bench ...}: performance figures printed by a command, never by tests. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks that print figures.",
        subcommands = {BenchCommand.Gemm.class, BenchCommand.Unet.class, BenchCommand.Llm.class, CommandLine.HelpCommand.class})
final class BenchCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "gemm", mixinStandardHelpOptions = true, description = {
            "SGEMM against OpenBLAS (called through FFM) for 1024³ and 4096×320×2880 with each thread count;",
            "then conv2d, attention and group norm next to that run's GEMM peak, and a one-token BF16 linear.",
            "Last line: gemm_ratio_vs_openblas=<smallest ratio>."})
    static final class Gemm implements Callable<Integer> {
        @Option(names = "--threads", split = ",", paramLabel = "N", description = "Comma-separated thread counts to measure (default: 1,2).")
        int[] threads = {1, 2};

        @Option(names = "--repeats", paramLabel = "N", description = "Timed runs per figure after warm-up (default: 20).")
        int repeats = 20;

        @Option(names = "--openblas", paramLabel = "PATH", description = "libopenblas to compare with (default: search the usual names).")
        String openblas;

        @Option(names = "--budget", paramLabel = "SECONDS", description = "Time cap for the timed runs of one slow op (default: 20).")
        double budget = 20;

        @Override
        public Integer call() {
            GemmBenchmark.run(new GemmBenchmark.Options(threads, repeats, openblas, budget), System.out);
            return 0;
        }
    }

    @Command(name = "unet", mixinStandardHelpOptions = true, description = {
            "One CFG step of the Stable Diffusion 1.5 UNet (real config, random weights in memory) at 64×64 latents,",
            "batch 2, and the SD 1.5 VAE decode at 512×512: seconds, achieved GFLOP/s next to the GEMM peak of the same",
            "run, peak memory. Needs about 4 GiB for F32 weights. Last line: unet_fraction_of_gemm_peak=<x>."})
    static final class Unet implements Callable<Integer> {
        @Option(names = "--threads", paramLabel = "N", description = "Compute threads (default: all cores).")
        int threads;

        @Option(names = "--repeats", paramLabel = "N", description = "Timed runs after one warm-up (default: 2).")
        int repeats = 2;

        @Option(names = "--dtype", paramLabel = "TYPE", description = "Weight storage: f32 (default, as diffusers on CPU), f16 or bf16.")
        String dtype = "f32";

        @Option(names = "--profile", description = "After the timed runs, one more run per model with every op timed:"
                + " time per op and the most expensive op shapes.")
        boolean profile;

        @Option(names = "--only", paramLabel = "MODEL", description = "Measure only the unet or only the vae (default: both).")
        String only;

        @Override
        public Integer call() {
            dev.zoetrope.core.DType type = switch (dtype.toLowerCase(java.util.Locale.ROOT)) {
                case "f32", "float32" -> dev.zoetrope.core.DType.F32;
                case "f16", "float16" -> dev.zoetrope.core.DType.F16;
                case "bf16", "bfloat16" -> dev.zoetrope.core.DType.BF16;
                default -> throw new UserError("--dtype must be f32, f16 or bf16, got " + dtype);
            };
            boolean unet = only == null || only.equalsIgnoreCase("unet"), vae = only == null || only.equalsIgnoreCase("vae");
            if (!unet && !vae) throw new UserError("--only must be unet or vae, got " + only);
            dev.zoetrope.bench.UnetBenchmark.run(new dev.zoetrope.bench.UnetBenchmark.Options(threads, repeats, type,
                    profile, unet, vae), System.out);
            return 0;
        }
    }

    @Command(name = "llm", mixinStandardHelpOptions = true, description = "InternVL2-1B-shaped generation with random BF16"
            + " weights built in memory (Qwen2-0.5B + InternViT-300M), one stream: prefill and decode tokens/s, decode"
            + " (one linear per projection and grouped, runs interleaved) next to its memory-bandwidth bound (weight bytes"
            + " per token over a vectorised 1 GiB read), and the vision encoder on one 448×448 tile."
            + " Last line: decode_fraction_of_bound=<x>.")
    static final class Llm implements Callable<Integer> {
        @Option(names = "--prompt-tokens", paramLabel = "N", description = "Prefill length (default: ${DEFAULT-VALUE}).")
        int promptTokens = LlmBenchmark.Options.defaults().promptTokens();

        @Option(names = "--decode-tokens", paramLabel = "N", description = "Tokens generated per decode run (default: ${DEFAULT-VALUE}).")
        int decodeTokens = LlmBenchmark.Options.defaults().decodeTokens();

        @Option(names = "--repeats", paramLabel = "N", description = "Timed runs per figure after warm-up (default: ${DEFAULT-VALUE}).")
        int repeats = LlmBenchmark.Options.defaults().repeats();

        @Option(names = "--vision-runs", paramLabel = "N", description = "Timed vision-encoder runs, 0 to skip (default: ${DEFAULT-VALUE}).")
        int visionRuns = LlmBenchmark.Options.defaults().visionRuns();

        @Option(names = "--profile", description = "After the timed runs, one more decode run with every op timed:"
                + " time per op and the most expensive op shapes.")
        boolean profile;

        @Override
        public Integer call() {
            LlmBenchmark.run(new LlmBenchmark.Options(promptTokens, decodeTokens, repeats, visionRuns, profile), System.out);
            return 0;
        }
    }
}
