package dev.zoetrope.cli;

import dev.zoetrope.bench.GemmBenchmark;
import dev.zoetrope.bench.LlmBenchmark;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code zoe bench ...}: performance figures printed by a command, never by tests. */
@Command(name = "bench", description = "Benchmarks that print figures.",
        subcommands = {BenchCommand.Gemm.class, BenchCommand.Llm.class, CommandLine.HelpCommand.class})
final class BenchCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "gemm", description = {
            "SGEMM against OpenBLAS (through FFM) for 1024³ and 4096×320×2880 with each thread count, then conv2d,",
            "attention and group norm next to the GEMM peak. Last line: gemm_ratio_vs_openblas=<smallest ratio>."})
    static final class Gemm implements Callable<Integer> {
        @Option(names = "--threads", split = ",", paramLabel = "N[,N...]", description = "Thread counts to measure (default: 1,2).")
        int[] threads = {1, 2};

        @Option(names = "--repeats", paramLabel = "N", description = "Timed runs per figure after warm-up (default: 10).")
        int repeats = 10;

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

        @Override
        public Integer call() {
            LlmBenchmark.run(new LlmBenchmark.Options(promptTokens, decodeTokens, repeats, visionRuns), System.out);
            return 0;
        }
    }
}
