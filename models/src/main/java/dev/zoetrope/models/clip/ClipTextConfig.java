package dev.zoetrope.models.clip;

import dev.zoetrope.core.CheckpointException;
import dev.zoetrope.core.Json;
import dev.zoetrope.models.nn.Activation;
import dev.zoetrope.models.nn.Configs;

import java.nio.file.Path;

/**
 * transformers {@code CLIPTextConfig} ({@code text_encoder/config.json}; a full CLIPConfig's {@code text_config}
 * is accepted too), with the reference defaults.
 */
public record ClipTextConfig(
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int projectionDim,
        int numHiddenLayers,
        int numAttentionHeads,
        int maxPositionEmbeddings,
        Activation hiddenAct,
        float layerNormEps,
        int padTokenId,
        int bosTokenId,
        int eosTokenId) {

    public ClipTextConfig {
        if (numAttentionHeads <= 0 || hiddenSize % numAttentionHeads != 0) {
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " is not divisible by num_attention_heads "
                    + numAttentionHeads);
        }
    }

    public static ClipTextConfig load(Path file) {
        return parse(Configs.read(file), file.toString());
    }

    public static ClipTextConfig parse(Json.Obj c, String where) {
        try {
            if ("clip".equals(c.string("model_type", "")) && c.has("text_config")) c = c.obj("text_config");
            return new ClipTextConfig(
                    c.intValue("vocab_size", 49408), c.intValue("hidden_size", 512), c.intValue("intermediate_size", 2048),
                    c.intValue("projection_dim", 512), c.intValue("num_hidden_layers", 12),
                    c.intValue("num_attention_heads", 8), c.intValue("max_position_embeddings", 77),
                    Activation.fromConfig(c.string("hidden_act", "quick_gelu"), where + " hidden_act"),
                    (float) c.doubleValue("layer_norm_eps", 1e-5),
                    c.intValue("pad_token_id", 1), c.intValue("bos_token_id", 49406), c.intValue("eos_token_id", 49407));
        } catch (Json.JsonException | IllegalArgumentException e) {
            throw new CheckpointException(where + ": " + e.getMessage(), e);
        }
    }
}
