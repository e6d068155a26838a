package dev.zoetrope.models.clip;

import dev.zoetrope.core.CheckpointException;
import dev.zoetrope.core.Json;
import dev.zoetrope.models.nn.Activation;
import dev.zoetrope.models.nn.Configs;

import java.nio.file.Path;

/**
 * transformers {@code CLIPVisionConfig} ({@code image_encoder/config.json}; a full CLIPConfig's
 * {@code vision_config} is accepted too), with the reference defaults.
 */
public record ClipVisionConfig(
        int hiddenSize,
        int intermediateSize,
        int projectionDim,
        int numHiddenLayers,
        int numAttentionHeads,
        int numChannels,
        int imageSize,
        int patchSize,
        Activation hiddenAct,
        float layerNormEps) {

    public ClipVisionConfig {
        if (numAttentionHeads <= 0 || hiddenSize % numAttentionHeads != 0) {
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " is not divisible by num_attention_heads "
                    + numAttentionHeads);
        }
        if (patchSize <= 0 || imageSize % patchSize != 0) {
            throw new IllegalArgumentException("image_size " + imageSize + " is not a multiple of patch_size " + patchSize);
        }
    }

    public int numPatches() {
        int g = imageSize / patchSize;
        return g * g;
    }

    public static ClipVisionConfig load(Path file) {
        return parse(Configs.read(file), file.toString());
    }

    public static ClipVisionConfig parse(Json.Obj c, String where) {
        try {
            if ("clip".equals(c.string("model_type", "")) && c.has("vision_config")) c = c.obj("vision_config");
            return new ClipVisionConfig(
                    c.intValue("hidden_size", 768), c.intValue("intermediate_size", 3072), c.intValue("projection_dim", 512),
                    c.intValue("num_hidden_layers", 12), c.intValue("num_attention_heads", 12),
                    c.intValue("num_channels", 3), c.intValue("image_size", 224), c.intValue("patch_size", 32),
                    Activation.fromConfig(c.string("hidden_act", "quick_gelu"), where + " hidden_act"),
                    (float) c.doubleValue("layer_norm_eps", 1e-5));
        } catch (Json.JsonException | IllegalArgumentException e) {
            throw new CheckpointException(where + ": " + e.getMessage(), e);
        }
    }
}
