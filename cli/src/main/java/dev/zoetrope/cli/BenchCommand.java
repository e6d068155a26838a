package dev.zoetrope.cli;

import dev.zoetrope.bench.GemmBenchmark;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code zoe bench ...}: performance figures printed by a command, never by tests. */
@Command(name = "bench", description = "Benchmarks that print figures.",
        subcommands = {BenchCommand.Gemm.class, CommandLine.HelpCommand.class})
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
}
