package dev.zoetrope.models.internvl;

import dev.zoetrope.core.CheckpointException;
import dev.zoetrope.core.Json;
import dev.zoetrope.core.Tensor;

import java.util.Set;

import static dev.zoetrope.core.Ops.gelu;
import static dev.zoetrope.core.Ops.geluTanh;
import static dev.zoetrope.core.Ops.quickGelu;
import static dev.zoetrope.core.Ops.relu;
import static dev.zoetrope.core.Ops.silu;

/**
 * InternViT settings ({@code configuration_intern_vit.py}, InternVL's {@code vision_config}) with the
 * reference defaults for absent keys.
 *
 * @param normType "layer_norm" (InternViT-300M) or "rms_norm" (InternViT-6B)
 */
public record InternVisionConfig(
        int numChannels,
        int patchSize,
        int imageSize,
        boolean qkvBias,
        int hiddenSize,
        int numAttentionHeads,
        int intermediateSize,
        boolean qkNormalization,
        int numHiddenLayers,
        String hiddenAct,
        String normType,
        double layerNormEps) {

    private static final Set<String> ACTIVATIONS = Set.of("gelu", "gelu_new", "gelu_pytorch_tanh", "quick_gelu", "silu", "swish", "relu");

    public InternVisionConfig {
        if (!normType.equals("layer_norm") && !normType.equals("rms_norm")) {
            throw new IllegalArgumentException("norm_type \"" + normType + "\" (expected layer_norm or rms_norm)");
        }
        if (!ACTIVATIONS.contains(hiddenAct)) {
            throw new IllegalArgumentException("hidden_act \"" + hiddenAct + "\" (supported: " + ACTIVATIONS + ")");
        }
        if (numAttentionHeads <= 0 || hiddenSize % numAttentionHeads != 0) {
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " is not divisible by num_attention_heads "
                    + numAttentionHeads);
        }
        if (patchSize <= 0 || imageSize % patchSize != 0) {
            throw new IllegalArgumentException("image_size " + imageSize + " is not a multiple of patch_size " + patchSize);
        }
    }

    public static InternVisionConfig fromJson(Json.Obj json, String where) {
        try {
            return new InternVisionConfig(
                    json.intValue("num_channels", 3),
                    json.intValue("patch_size", 14),
                    json.intValue("image_size", 224),
                    json.bool("qkv_bias", false),
                    json.intValue("hidden_size", 3200),
                    json.intValue("num_attention_heads", 25),
                    json.intValue("intermediate_size", 12800),
                    json.bool("qk_normalization", true),
                    json.intValue("num_hidden_layers", 48),
                    json.string("hidden_act", "gelu"),
                    json.string("norm_type", "rms_norm"),
                    json.doubleValue("layer_norm_eps", 1e-6));
        } catch (Json.JsonException | IllegalArgumentException e) {
            throw new CheckpointException(where + ": invalid InternViT config: " + e.getMessage(), e);
        }
    }

    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }

    /** Patches per side of the image the position embedding was trained for. */
    public int gridSize() {
        return imageSize / patchSize;
    }

    /** transformers' ACT2FN for the names InternViT configs use ("gelu" is the exact erf form). */
    Tensor activation(Tensor x) {
        return switch (hiddenAct) {
            case "gelu" -> gelu(x);
            case "gelu_new", "gelu_pytorch_tanh" -> geluTanh(x);
            case "quick_gelu" -> quickGelu(x);
            case "silu", "swish" -> silu(x);
            case "relu" -> relu(x);
            default -> throw new IllegalStateException(hiddenAct);
        };
    }
}
