package dev.zoetrope.models.llm;

import dev.zoetrope.core.Tensor;

/**
 * A decoder-only language model as generation sees it: token embeddings in, final-normed hidden states out,
 * keys/values kept in a {@link KvCache}. Qwen2 implements it; InternLM2 / Phi-3 / Llama would too.
 */
public interface CausalLanguageModel {

    int vocabSize();

    int hiddenSize();

    /** Token ids (any integer dtype) [B, T] → embeddings [B, T, hidden] F32. */
    Tensor embed(Tensor ids);

    /** An empty cache for {@code batch} rows with room for {@code capacity} positions; close it when done. */
    KvCache newCache(int batch, int capacity);

    /**
     * Runs the decoder over new positions. {@code inputsEmbeds} [B, T, hidden]; {@code realTokens} [B][T]
     * marks left padding (null = all real); {@code positions} [B][T] rotary positions (null = continue each
     * row from the cache: real tokens count from the row's first real token, padding gets 1 as transformers
     * does). The cache grows if needed; its length grows by T.
     *
     * @return hidden states after the final norm [B, T, hidden]
     */
    Tensor forward(Tensor inputsEmbeds, KvCache cache, boolean[][] realTokens, long[][] positions, LayerObserver observer);

    default Tensor forward(Tensor inputsEmbeds, KvCache cache) {
        return forward(inputsEmbeds, cache, null, null, null);
    }

    /** Hidden states [..., hidden] → logits [..., vocab]. */
    Tensor logits(Tensor hidden);

    /** Logits of the last position only: hidden [B, T, hidden] → [B, vocab]. */
    default Tensor lastLogits(Tensor hidden) {
        int b = hidden.dim(0), t = hidden.dim(1);
        return logits(hidden.narrow(1, t - 1, 1)).reshape(b, vocabSize());
    }

    /** Sees each decoder layer's output (valid only during the call; copy what you keep). */
    @FunctionalInterface
    interface LayerObserver {
        void afterLayer(int layer, Tensor hidden);
    }
}
