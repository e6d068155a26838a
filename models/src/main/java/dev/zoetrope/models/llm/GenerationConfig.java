package dev.zoetrope.models.llm;

import java.util.List;

/**
 * What {@link Generator} does, with transformers' {@code GenerationConfig} meanings and defaults: greedy unless
 * {@code doSample}; when sampling, temperature → top-k → top-p are applied after the repetition penalty, in
 * transformers' logits-processor order. Only single-beam decoding is implemented.
 *
 * @param maxNewTokens      generated tokens at most (the stop token included)
 * @param doSample          sample from the processed distribution instead of taking the arg-max
 * @param temperature       divides the logits when sampling (1 = unchanged; must be > 0)
 * @param topK              keep the k most likely tokens when sampling (0 = off; transformers' default 50)
 * @param topP              keep the smallest set with cumulative probability ≥ top_p when sampling (1 = off)
 * @param repetitionPenalty > 1 discourages tokens already generated (CTRL rule: divide positive, multiply
 *                          negative logits); applies in greedy mode too
 * @param seed              seed of the sampler's random stream (null = a fresh random seed)
 * @param eosTokenIds       generation of a row stops after it emits one of these
 * @param padTokenId        what a finished row is fed and padded with in a batch (null = first eos id)
 */
public record GenerationConfig(
        int maxNewTokens,
        boolean doSample,
        double temperature,
        int topK,
        double topP,
        double repetitionPenalty,
        Long seed,
        List<Integer> eosTokenIds,
        Integer padTokenId) {

    public GenerationConfig {
        eosTokenIds = List.copyOf(eosTokenIds);
        if (maxNewTokens < 1) throw new IllegalArgumentException("max_new_tokens must be at least 1, got " + maxNewTokens);
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a positive number, got " + temperature);
        }
        if (topK < 0) throw new IllegalArgumentException("top_k must be >= 0, got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top_p must be in (0, 1], got " + topP);
        if (!(repetitionPenalty > 0) || Double.isInfinite(repetitionPenalty)) {
            throw new IllegalArgumentException("repetition_penalty must be a positive number, got " + repetitionPenalty);
        }
    }

    /** Greedy decoding of at most {@code maxNewTokens} tokens, stopping where the caller's model stops (chat: its template's stop token). */
    public static GenerationConfig greedy(int maxNewTokens) {
        return greedy(maxNewTokens, List.of());
    }

    /** Greedy decoding of at most {@code maxNewTokens} tokens, stopping at any of {@code eosTokenIds}. */
    public static GenerationConfig greedy(int maxNewTokens, List<Integer> eosTokenIds) {
        return new GenerationConfig(maxNewTokens, false, 1.0, 50, 1.0, 1.0, null, eosTokenIds, null);
    }

    public GenerationConfig withSampling(double temperature, int topK, double topP, Long seed) {
        return new GenerationConfig(maxNewTokens, true, temperature, topK, topP, repetitionPenalty, seed, eosTokenIds, padTokenId);
    }

    public GenerationConfig withRepetitionPenalty(double penalty) {
        return new GenerationConfig(maxNewTokens, doSample, temperature, topK, topP, penalty, seed, eosTokenIds, padTokenId);
    }

    public GenerationConfig withMaxNewTokens(int n) {
        return new GenerationConfig(n, doSample, temperature, topK, topP, repetitionPenalty, seed, eosTokenIds, padTokenId);
    }

    public GenerationConfig withEosTokenIds(List<Integer> ids) {
        return new GenerationConfig(maxNewTokens, doSample, temperature, topK, topP, repetitionPenalty, seed, ids, padTokenId);
    }

    public GenerationConfig withPadTokenId(Integer id) {
        return new GenerationConfig(maxNewTokens, doSample, temperature, topK, topP, repetitionPenalty, seed, eosTokenIds, id);
    }

    /** The id fed to and padded into finished rows. */
    public int effectivePadTokenId() {
        if (padTokenId != null) return padTokenId;
        if (!eosTokenIds.isEmpty()) return eosTokenIds.get(0);
        return 0;
    }

    public boolean isEos(int token) {
        return eosTokenIds.contains(token);
    }
}
