package dev.zoetrope.models.qwen2;

import dev.zoetrope.core.CheckpointException;
import dev.zoetrope.core.Json;

import java.util.List;

/**
 * Qwen2ForCausalLM settings as transformers' {@code Qwen2Config} reads them from {@code config.json} (or from
 * InternVL's {@code llm_config}), with transformers' defaults for absent keys.
 *
 * @param headDim               {@code head_dim} if present, else hidden_size / num_attention_heads
 * @param ropeTheta             {@code rope_theta} (transformers 4) or {@code rope_parameters.rope_theta} (5)
 * @param eosTokenIds           {@code eos_token_id}, a number or a list (may be empty)
 */
public record Qwen2Config(
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int headDim,
        String hiddenAct,
        int maxPositionEmbeddings,
        double rmsNormEps,
        double ropeTheta,
        boolean tieWordEmbeddings,
        boolean useSlidingWindow,
        Integer bosTokenId,
        List<Integer> eosTokenIds,
        Integer padTokenId) {

    public static final String ARCHITECTURE = "Qwen2ForCausalLM";

    public Qwen2Config {
        eosTokenIds = List.copyOf(eosTokenIds);
        if (numAttentionHeads <= 0 || numKeyValueHeads <= 0 || numAttentionHeads % numKeyValueHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads " + numAttentionHeads
                    + " must be a positive multiple of num_key_value_heads " + numKeyValueHeads);
        }
        if (headDim <= 0 || headDim % 2 != 0) {
            throw new IllegalArgumentException("head_dim " + headDim + " must be positive and even (rotary embedding)");
        }
    }

    /**
     * Parses a Qwen2 config object. {@code where} names the file (and key) for error messages. Settings this
     * implementation does not compute (sliding-window attention, scaled RoPE, another activation) are refused
     * with a message rather than silently ignored.
     */
    public static Qwen2Config fromJson(Json.Obj json, String where) {
        try {
            int hidden = json.intValue("hidden_size", 4096);
            int heads = json.intValue("num_attention_heads", 32);
            int kvHeads = json.has("num_key_value_heads") ? json.intValue("num_key_value_heads", heads) : heads;
            int headDim = json.has("head_dim") ? json.intValue("head_dim", hidden / heads) : hidden / heads;
            String act = json.string("hidden_act", "silu");
            if (!act.equals("silu")) {
                throw new CheckpointException(where + ": hidden_act \"" + act + "\" is not supported for Qwen2 (expected \"silu\")");
            }
            boolean sliding = json.bool("use_sliding_window", false);
            if (sliding) {
                throw new CheckpointException(where + ": use_sliding_window=true is not supported (sliding-window"
                        + " attention is not implemented; InternVL2 and Qwen2 instruct checkpoints set it false)");
            }
            double theta = ropeTheta(json, where);
            return new Qwen2Config(
                    json.intValue("vocab_size", 151936),
                    hidden,
                    json.intValue("intermediate_size", 22016),
                    json.intValue("num_hidden_layers", 32),
                    heads,
                    kvHeads,
                    headDim,
                    act,
                    json.intValue("max_position_embeddings", 32768),
                    json.doubleValue("rms_norm_eps", 1e-6),
                    theta,
                    json.bool("tie_word_embeddings", false),
                    sliding,
                    json.has("bos_token_id") ? json.intValue("bos_token_id", 0) : null,
                    ids(json, "eos_token_id"),
                    json.has("pad_token_id") ? json.intValue("pad_token_id", 0) : null);
        } catch (Json.JsonException | IllegalArgumentException e) {
            throw new CheckpointException(where + ": invalid Qwen2 config: " + e.getMessage(), e);
        }
    }

    private static double ropeTheta(Json.Obj json, String where) {
        for (String key : new String[] {"rope_scaling", "rope_parameters"}) {
            Json.Obj rope = json.obj(key);
            if (rope == null) continue;
            String type = rope.string("rope_type", rope.string("type", "default"));
            if (!type.equals("default")) {
                throw new CheckpointException(where + ": " + key + " type \"" + type
                        + "\" is not supported (only the default rotary embedding is implemented)");
            }
            if (rope.has("rope_theta")) return rope.doubleValue("rope_theta", 10000.0);
        }
        return json.doubleValue("rope_theta", 10000.0);
    }

    private static List<Integer> ids(Json.Obj json, String key) {
        Object raw = json.raw(key);
        if (raw == null) return List.of();
        if (raw instanceof Number n) return List.of(n.intValue());
        return java.util.Arrays.stream(json.ints(key, new int[0])).boxed().toList();
    }

    /** Query heads per key/value head (grouped-query attention). */
    public int groups() {
        return numAttentionHeads / numKeyValueHeads;
    }
}
