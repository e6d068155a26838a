package dev.zoetrope.bench;

import dev.zoetrope.core.Backend;
import dev.zoetrope.core.DType;
import dev.zoetrope.core.Ops;
import dev.zoetrope.core.Parallel;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.cpu.Kernels;
import dev.zoetrope.models.internvl.InternVLChatModel;
import dev.zoetrope.models.llm.GenerationConfig;
import dev.zoetrope.models.llm.Generator;
import dev.zoetrope.models.llm.KvCache;
import dev.zoetrope.models.qwen2.Qwen2Config;
import dev.zoetrope.models.qwen2.Qwen2ForCausalLM;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * {@code zoe bench llm}: InternVL2-1B-shaped generation speed on this machine, one stream — prefill and decode
 * tokens/s of the Qwen2-0.5B language model and the InternViT-300M time for one 448² tile, with random BF16
 * weights built in memory ({@link SyntheticInternVL2}). Decode is memory-bound, so it is printed next to its
 * bound: the weight bytes one token reads divided by the read bandwidth a vectorised sum over 1 GiB reaches in
 * the same run (3 passes timed together before each decode round, median over the rounds). Decode runs
 * alternate between one linear per projection (as before grouping) and grouped projections, so both see the
 * same machine load. Every figure is the median of {@code repeats} runs after a warm-up. The last line is
 * {@code decode_fraction_of_bound=<x>} for the grouped (default) path.
 */
public final class LlmBenchmark {
    private LlmBenchmark() {
    }

    /**
     * @param promptTokens tokens of the prefill (an image prompt of InternVL2 has ~290)
     * @param decodeTokens tokens generated per decode run
     * @param repeats      timed runs per figure after one warm-up
     * @param visionRuns   timed vision runs (0 skips the vision encoder)
     * @param profile      after the timed runs, one more decode run with every op timed
     */
    public record Options(int promptTokens, int decodeTokens, int repeats, int visionRuns, boolean profile) {
        public Options {
            if (promptTokens < 1 || decodeTokens < 2 || repeats < 1 || visionRuns < 0) {
                throw new IllegalArgumentException("need prompt ≥ 1, decode ≥ 2 tokens, repeats ≥ 1, vision runs ≥ 0");
            }
        }

        public static Options defaults() {
            return new Options(256, 48, 5, 2, false);
        }
    }

    /** Bandwidth buffer: at least 1 GiB so that no cache level holds it. */
    private static final long BANDWIDTH_BYTES = 1L << 30;

    public static void main(String[] args) {
        run(Options.defaults(), System.out);
    }

    /** Runs everything, prints the report and returns decode tok/s ÷ bound. */
    public static double run(Options options, PrintStream out) {
        out.println("zoe bench llm: InternVL2-1B shape (Qwen2-0.5B: 24 layers, hidden 896, 14 heads / 2 KV heads,"
                + " intermediate 4864, vocab 151655, untied lm_head; InternViT-300M: 24 layers, hidden 1024, 16 heads),"
                + " random BF16 weights, one stream");
        out.println("machine: " + cpuModel() + ", " + Runtime.getRuntime().availableProcessors()
                + " cores, " + Parallel.threads() + " threads, Java " + Runtime.version() + ", " + Ops.backend().name());
        try (Scope scope = Scope.open()) {
            long t0 = System.nanoTime();
            SyntheticInternVL2.Built built = SyntheticInternVL2.build(20241122L);
            long weightBytes = SyntheticInternVL2.decodeWeightBytes(built);
            out.printf(Locale.ROOT, "built weights in %.1f s; decode reads %.1f MB of weights per token%n",
                    (System.nanoTime() - t0) / 1e9, weightBytes / 1e6);

            Qwen2ForCausalLM lm = built.model().languageModel();
            Decode[] modes;   // [separate linears (before), grouped (after)]
            List<Double> bandwidths;
            try (Bandwidth probe = new Bandwidth()) {
                bandwidths = new ArrayList<>();
                modes = decode(lm, options, () -> bandwidths.add(probe.measure()));
            }
            double bandwidth = median(bandwidths);
            double bound = bandwidth / weightBytes;
            out.printf(Locale.ROOT, "read bandwidth: %.2f GB/s (vectorised sum over %.2f GiB, %d threads; 3 passes timed"
                            + " together before each of the %d decode rounds, median) -> decode bound %.2f tok/s%n", bandwidth / 1e9,
                    BANDWIDTH_BYTES / (double) (1L << 30), Parallel.threads(), bandwidths.size(), bound);
            Decode before = modes[0], after = modes[1];
            out.printf(Locale.ROOT, "prefill %d tokens: %.1f tok/s (%.2f s, median of %d)%n", options.promptTokens(),
                    options.promptTokens() / after.prefillSeconds(), after.prefillSeconds(), options.repeats());
            out.printf(Locale.ROOT, "decode %d tokens after the prompt, runs interleaved, median of %d (best):%n",
                    options.decodeTokens(), options.repeats());
            out.printf(Locale.ROOT, "  before: one linear per projection   %6.2f tok/s (%6.1f ms/token, best %6.1f) = %.2f of the bound%n",
                    1 / before.secondsPerToken(), before.secondsPerToken() * 1e3, before.bestSecondsPerToken() * 1e3,
                    1 / before.secondsPerToken() / bound);
            double tokensPerSecond = 1 / after.secondsPerToken();
            double fraction = tokensPerSecond / bound;
            out.printf(Locale.ROOT, "  after:  grouped streaming linears   %6.2f tok/s (%6.1f ms/token, best %6.1f) = %.2f of the bound%n",
                    tokensPerSecond, after.secondsPerToken() * 1e3, after.bestSecondsPerToken() * 1e3, fraction);

            if (options.profile()) profileDecode(lm, options, out);
            if (options.visionRuns() > 0) {
                double seconds = vision(built.model(), options.visionRuns());
                out.printf(Locale.ROOT, "vision: one 448x448 tile (InternViT-300M + pixel shuffle + mlp1 -> 256 tokens):"
                        + " %.2f s (median of %d)%n", seconds, options.visionRuns());
            }
            out.printf(Locale.ROOT, "decode_fraction_of_bound=%.3f%n", fraction);
            return fraction;
        }
    }

    /** One decode run (grouped linears) with every op timed, from the first generated token on: where a token's time goes. */
    static void profileDecode(Qwen2ForCausalLM lm, Options options, PrintStream out) {
        long[] prompt = new SplittableRandom(7).longs(options.promptTokens(), 0, lm.config().vocabSize()).toArray();
        GenerationConfig greedy = GenerationConfig.greedy(options.decodeTokens(), List.of());
        Backend plain = Ops.backend();
        ProfilingBackend profiling = new ProfilingBackend(plain);
        long[] started = {0};
        try (KvCache cache = lm.newCache(1, prompt.length + options.decodeTokens()); Scope s = Scope.open()) {
            Tensor embeds = lm.embed(Tensor.ofLongs(prompt, 1, prompt.length));
            Generator.generate(lm, cache, embeds, null, null, greedy, (row, token) -> {
                if (started[0] == 0) {   // prefill done: profile the decode steps only
                    Ops.setBackend(profiling);
                    started[0] = System.nanoTime();
                }
            });
        } finally {
            Ops.setBackend(plain);
        }
        out.printf(Locale.ROOT, "decode profile (%d tokens after the first, grouped linears):%n", options.decodeTokens() - 1);
        profiling.report((System.nanoTime() - started[0]) / 1e9, 15, out);
    }

    /** Median prefill seconds, median and best decode seconds per token. */
    record Decode(double prefillSeconds, double secondsPerToken, double bestSecondsPerToken) {
    }

    /**
     * Greedy generation after a random prompt, alternating the model's projections between one linear each
     * (index 0, as before grouping) and grouped streaming linears (index 1) run by run, so both see the same
     * machine load; the first round warms up and {@code betweenRounds} runs before every timed round.
     */
    static Decode[] decode(Qwen2ForCausalLM lm, Options options, Runnable betweenRounds) {
        Qwen2Config c = lm.config();
        long[] prompt = new SplittableRandom(7).longs(options.promptTokens(), 0, c.vocabSize()).toArray();
        GenerationConfig greedy = GenerationConfig.greedy(options.decodeTokens(), List.of());
        List<List<Double>> prefill = List.of(new ArrayList<>(), new ArrayList<>());
        List<List<Double>> perToken = List.of(new ArrayList<>(), new ArrayList<>());
        boolean saved = lm.groupedProjections();
        try {
            for (int run = 0; run <= options.repeats(); run++) {   // run 0 warms up
                if (run > 0) betweenRounds.run();
                for (int mode = 0; mode < 2; mode++) {
                    lm.setGroupedProjections(mode == 1);
                    long[] stamps = new long[options.decodeTokens()];
                    int[] count = {0};
                    long start;
                    try (KvCache cache = lm.newCache(1, prompt.length + options.decodeTokens()); Scope s = Scope.open()) {
                        Tensor embeds = lm.embed(Tensor.ofLongs(prompt, 1, prompt.length));
                        start = System.nanoTime();
                        Generator.generate(lm, cache, embeds, null, null, greedy,
                                (row, token) -> stamps[count[0]++] = System.nanoTime());
                    }
                    if (run == 0) continue;
                    int n = count[0];
                    prefill.get(mode).add((stamps[0] - start) / 1e9);
                    perToken.get(mode).add((stamps[n - 1] - stamps[0]) / 1e9 / (n - 1));
                }
            }
        } finally {
            lm.setGroupedProjections(saved);
        }
        Decode[] out = new Decode[2];
        for (int mode = 0; mode < 2; mode++) {
            out[mode] = new Decode(median(prefill.get(mode)), median(perToken.get(mode)),
                    perToken.get(mode).stream().mapToDouble(Double::doubleValue).min().orElseThrow());
        }
        return out;
    }

    /** Seconds for extract_feature of one 448² tile. */
    static double vision(InternVLChatModel model, int runs) {
        List<Double> times = new ArrayList<>();
        try (Scope s = Scope.open()) {
            Tensor pixels = Tensor.empty(DType.F32, 1, 3, 448, 448);
            SplittableRandom random = new SplittableRandom(3);
            MemorySegment seg = pixels.segment();
            for (long i = 0; i < pixels.numel(); i++) seg.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) random.nextGaussian());
            for (int run = 0; run <= runs; run++) {
                long start = System.nanoTime();
                try (Scope pass = Scope.open()) {
                    model.extractFeature(pixels);
                }
                if (run > 0) times.add((System.nanoTime() - start) / 1e9);
            }
        }
        return median(times);
    }

    /** Read bandwidth: a vectorised sum over a 1 GiB buffer on the worker pool, in bytes per second. */
    static final class Bandwidth implements AutoCloseable {
        private static final int PASSES = 3;
        private final Arena arena = Arena.ofShared();
        private final MemorySegment buffer = arena.allocate(BANDWIDTH_BYTES, 64);
        private final long chunk = 1 << 21;   // 8 MiB of floats per task
        private final double[] partial = new double[(int) (BANDWIDTH_BYTES / Float.BYTES / chunk)];

        Bandwidth() {
            Parallel.forRange(BANDWIDTH_BYTES / Float.BYTES, 1 << 22, (a, b) -> {
                for (long i = a; i < b; i++) buffer.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (i & 1023) * 1e-3f);
            });
            measure();   // warm-up
        }

        /**
         * Bytes per second over three back-to-back passes timed together: long enough (~0.1 s) that a worker
         * thread starting late or one lucky pass does not decide the figure.
         */
        double measure() {
            long start = System.nanoTime();
            for (int pass = 0; pass < PASSES; pass++) {
                Parallel.forEach(partial.length, i -> partial[i] = sum(buffer, i * chunk, chunk));
                if (Double.isNaN(Arrays.stream(partial).sum())) throw new IllegalStateException("bandwidth sum is NaN");
            }
            return PASSES * BANDWIDTH_BYTES / ((System.nanoTime() - start) / 1e9);
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    private static double sum(MemorySegment s, long first, long count) {
        VectorSpecies<Float> f = Kernels.F;
        int l = f.length();
        FloatVector a0 = FloatVector.zero(f), a1 = a0, a2 = a0, a3 = a0;
        long end = first + count;
        long i = first;
        for (; i + 4L * l <= end; i += 4L * l) {
            a0 = a0.add(FloatVector.fromMemorySegment(f, s, i * 4, ByteOrder.nativeOrder()));
            a1 = a1.add(FloatVector.fromMemorySegment(f, s, (i + l) * 4, ByteOrder.nativeOrder()));
            a2 = a2.add(FloatVector.fromMemorySegment(f, s, (i + 2L * l) * 4, ByteOrder.nativeOrder()));
            a3 = a3.add(FloatVector.fromMemorySegment(f, s, (i + 3L * l) * 4, ByteOrder.nativeOrder()));
        }
        double total = a0.add(a1).add(a2).add(a3).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
        for (; i < end; i++) total += s.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
        return total;
    }

    static String cpuModel() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).strip();
            }
        } catch (java.io.IOException | RuntimeException e) {
            // not Linux: fall through
        }
        return System.getProperty("os.arch");
    }

    static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
}
