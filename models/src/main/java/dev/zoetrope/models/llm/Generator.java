package dev.zoetrope.models.llm;

import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.noise.TorchGenerator;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Autoregressive decoding with a KV cache, as transformers' {@code generate} does for one beam: prefill the
 * prompt embeddings, then repeatedly pick a token per row ({@link LogitsProcessing}), feed it back, and stop a
 * row at an eos id or after max_new_tokens. Finished rows of a batch are fed the pad id until every row is
 * done. A thread interrupt stops generation after the current token (reason CANCELLED).
 *
 * <p>Sampling draws from a {@link TorchGenerator} the way transformers' {@code torch.multinomial(probs, 1)}
 * draws from torch's default CPU generator: one exponential variate per vocabulary entry and row, every row of
 * the batch (finished ones too) at every step. With {@code GenerationConfig.seed} the generator starts as after
 * {@code torch.manual_seed(seed)}; see {@link TorchGenerator#multinomialOne} for which torch builds this
 * reproduces bit for bit.
 */
public final class Generator {
    private Generator() {
    }

    /** Receives each chosen token as soon as it is known (stop tokens included). */
    @FunctionalInterface
    public interface TokenStreamer {
        void onToken(int row, int token);
    }

    /** Sees the raw logits [B][vocab] that decide step {@code step} (before any processing). */
    @FunctionalInterface
    public interface LogitsObserver {
        void onLogits(int step, float[][] logits);
    }

    public enum FinishReason { STOP, LENGTH, CANCELLED }

    /**
     * @param tokens  per row, the generated ids (ending with the eos id when the row stopped on it)
     * @param reasons per row, why it ended
     */
    public record Result(List<int[]> tokens, List<FinishReason> reasons) {
        public Result {
            tokens = List.copyOf(tokens);
            reasons = List.copyOf(reasons);
        }
    }

    /**
     * Generates after the given prompt.
     *
     * @param cache         keys/values of earlier positions (may be empty); grows to hold prompt and answer and
     *                      ends up holding everything fed to the model (the last generated token is not fed)
     * @param inputsEmbeds  [B, T, hidden] embeddings of the new prompt positions
     * @param realTokens    [B][T] false at left padding, or null
     * @param penaltyIds    per row, prompt ids the repetition penalty also covers (null = only generated
     *                      tokens, which is what transformers does when generate gets inputs_embeds only)
     */
    public static Result generate(CausalLanguageModel model, KvCache cache, Tensor inputsEmbeds, boolean[][] realTokens,
                                  int[][] penaltyIds, GenerationConfig config, TokenStreamer streamer) {
        return generate(model, cache, inputsEmbeds, realTokens, penaltyIds, config, streamer, null);
    }

    /** {@link #generate(CausalLanguageModel, KvCache, Tensor, boolean[][], int[][], GenerationConfig, TokenStreamer)} that also reports each step's logits. */
    public static Result generate(CausalLanguageModel model, KvCache cache, Tensor inputsEmbeds, boolean[][] realTokens,
                                  int[][] penaltyIds, GenerationConfig config, TokenStreamer streamer,
                                  LogitsObserver logitsObserver) {
        return generate(model, cache, inputsEmbeds, realTokens, penaltyIds, config, streamer, logitsObserver, null);
    }

    /**
     * As above, sampling from {@code random} (null: a generator seeded with {@code config.seed()}, or with a
     * fresh random seed when that is null) — a caller that keeps one generator over several calls continues
     * its stream, as successive transformers calls after one {@code torch.manual_seed} do.
     */
    public static Result generate(CausalLanguageModel model, KvCache cache, Tensor inputsEmbeds, boolean[][] realTokens,
                                  int[][] penaltyIds, GenerationConfig config, TokenStreamer streamer,
                                  LogitsObserver logitsObserver, TorchGenerator random) {
        int batch = inputsEmbeds.dim(0), promptLength = inputsEmbeds.dim(1);
        if (cache.batch() != batch) {
            throw new IllegalArgumentException("KV cache has " + cache.batch() + " rows, the prompt " + batch);
        }
        cache.ensureCapacity(cache.length() + promptLength + config.maxNewTokens());
        TorchGenerator sampler = !config.doSample() ? null : random != null ? random : samplerFor(config);
        int pad = config.effectivePadTokenId();

        List<List<Integer>> generated = new ArrayList<>();
        for (int r = 0; r < batch; r++) generated.add(new ArrayList<>());
        FinishReason[] reasons = new FinishReason[batch];
        float[][] logits;
        try (Scope prefill = Scope.open()) {
            logits = rows(model.lastLogits(model.forward(inputsEmbeds, cache, realTokens, null, null)), batch);
        }
        for (int step = 0; step < config.maxNewTokens(); step++) {
            if (logitsObserver != null) logitsObserver.onLogits(step, logits);
            long[] next = new long[batch];
            for (int r = 0; r < batch; r++) {
                if (reasons[r] != null) {
                    if (sampler != null) sampler.skip64(logits[r].length);   // torch samples finished rows too
                    next[r] = pad;
                    continue;
                }
                int[] previous = previous(penaltyIds == null ? null : penaltyIds[r], generated.get(r));
                int token = LogitsProcessing.nextToken(logits[r], previous, config, sampler);
                generated.get(r).add(token);
                if (streamer != null) streamer.onToken(r, token);
                if (config.isEos(token)) reasons[r] = FinishReason.STOP;
                next[r] = token;
            }
            if (Arrays.stream(reasons).allMatch(x -> x != null)) break;
            if (step == config.maxNewTokens() - 1) break;
            if (Thread.currentThread().isInterrupted()) {
                for (int r = 0; r < batch; r++) if (reasons[r] == null) reasons[r] = FinishReason.CANCELLED;
                break;
            }
            try (Scope decode = Scope.open()) {
                Tensor embeds = model.embed(Tensor.ofLongs(next, batch, 1));            // [B, 1, hidden]
                logits = rows(model.lastLogits(model.forward(embeds, cache, null, null, null)), batch);
            }
        }
        List<int[]> tokens = new ArrayList<>();
        List<FinishReason> why = new ArrayList<>();
        for (int r = 0; r < batch; r++) {
            tokens.add(generated.get(r).stream().mapToInt(Integer::intValue).toArray());
            why.add(reasons[r] != null ? reasons[r] : FinishReason.LENGTH);
        }
        return new Result(tokens, why);
    }

    /** The generator a sampling call starts from: {@code torch.manual_seed(seed)}, or a fresh random seed. */
    public static TorchGenerator samplerFor(GenerationConfig config) {
        return TorchGenerator.seeded(config.seed() != null ? config.seed() : new SecureRandom().nextLong());
    }

    private static int[] previous(int[] prompt, List<Integer> generated) {
        int p = prompt == null ? 0 : prompt.length;
        int[] out = new int[p + generated.size()];
        if (prompt != null) System.arraycopy(prompt, 0, out, 0, p);
        for (int i = 0; i < generated.size(); i++) out[p + i] = generated.get(i);
        return out;
    }

    /** [B, V] logits → one float array per row. */
    private static float[][] rows(Tensor logits, int batch) {
        float[] all = logits.toFloatArray();
        int v = all.length / batch;
        float[][] out = new float[batch][];
        for (int r = 0; r < batch; r++) out[r] = Arrays.copyOfRange(all, r * v, (r + 1) * v);
        return out;
    }
}
