package dev.zoetrope.models.internvl;

import dev.zoetrope.core.CheckpointException;
import dev.zoetrope.core.Json;
import dev.zoetrope.models.nn.Configs;
import dev.zoetrope.models.qwen2.Qwen2Config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * InternVLChatModel settings ({@code configuration_internvl_chat.py}) from an original OpenGVLab InternVL2
 * {@code config.json}, with the reference defaults; {@link #read} recognises the layout and explains what it
 * found when it is not one this engine runs.
 *
 * @param forceImageSize  {@code force_image_size} or null (then the vision image_size)
 * @param psVersion       pixel-shuffle version: "v1" (transposed, legacy) or "v2"
 * @param systemMessage   {@code system_message} when the config overrides the template's, else null
 */
public record InternVLChatConfig(
        InternVisionConfig visionConfig,
        Qwen2Config llmConfig,
        int selectLayer,
        Integer forceImageSize,
        double downsampleRatio,
        String template,
        boolean dynamicImageSize,
        boolean useThumbnail,
        String psVersion,
        int minDynamicPatch,
        int maxDynamicPatch,
        String systemMessage) {

    public static final String ARCHITECTURE = "InternVLChatModel";

    public InternVLChatConfig {
        if (!psVersion.equals("v1") && !psVersion.equals("v2")) {
            throw new IllegalArgumentException("ps_version \"" + psVersion + "\" (expected v1 or v2)");
        }
        int inverse = (int) Math.round(1 / downsampleRatio);
        if (!(downsampleRatio > 0) || Math.abs(1.0 / inverse - downsampleRatio) > 1e-12) {
            throw new IllegalArgumentException("downsample_ratio " + downsampleRatio + " is not 1/n for an integer n");
        }
    }

    /** Image side the tiles have (force_image_size or the vision image_size). */
    public int imageSize() {
        return forceImageSize != null ? forceImageSize : visionConfig.imageSize();
    }

    /** Tokens per tile: {@code int((image_size // patch_size)² · downsample_ratio²)} (256 for InternVL2). */
    public int numImageToken() {
        int side = imageSize() / visionConfig.patchSize();
        return (int) (side * side * (downsampleRatio * downsampleRatio));
    }

    /** Patches merged per side by the pixel shuffle: int(1 / downsample_ratio). */
    public int shuffleFactor() {
        return (int) (1 / downsampleRatio);
    }

    /** Reads and checks {@code dir/config.json}. */
    public static InternVLChatConfig read(Path dir) {
        Path file = dir.resolve("config.json");
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(dir + ": no config.json (expected an InternVL2 checkpoint directory with"
                    + " config.json, model.safetensors and the tokenizer files)");
        }
        return fromJson(Configs.read(file), file.toString());
    }

    public static InternVLChatConfig fromJson(Json.Obj json, String where) {
        List<String> architectures;
        try {
            architectures = json.strings("architectures", List.of());
        } catch (Json.JsonException e) {
            throw new CheckpointException(where + ": " + e.getMessage(), e);
        }
        String modelType = json.raw("model_type") instanceof String s ? s : null;
        if (!architectures.contains(ARCHITECTURE) && !"internvl_chat".equals(modelType)) {
            if (architectures.contains("InternVLForConditionalGeneration") || "internvl".equals(modelType)) {
                throw new CheckpointException(where + ": this is the transformers-native InternVL layout"
                        + " (InternVLForConditionalGeneration, e.g. OpenGVLab/InternVL2-1B-hf's converted form); Zoetrope"
                        + " reads the original OpenGVLab layout (architectures [\"InternVLChatModel\"], model_type"
                        + " \"internvl_chat\") such as OpenGVLab/InternVL2-1B");
            }
            throw new CheckpointException(where + ": not an InternVL chat checkpoint (architectures " + architectures
                    + ", model_type " + modelType + "); expected architectures [\"InternVLChatModel\"] as in OpenGVLab/InternVL2-1B");
        }
        Json.Obj vision = json.obj("vision_config");
        Json.Obj llm = json.obj("llm_config");
        if (vision == null) throw new CheckpointException(where + ": InternVLChatModel config without \"vision_config\"");
        if (llm == null) throw new CheckpointException(where + ": InternVLChatModel config without \"llm_config\"");
        List<String> llmArch = llm.strings("architectures", List.of());
        String arch = llmArch.isEmpty() ? "(none)" : llmArch.get(0);
        if (!arch.equals(Qwen2Config.ARCHITECTURE)) {
            throw new CheckpointException(where + ": llm_config architecture " + arch + " is not supported yet; only "
                    + Qwen2Config.ARCHITECTURE + " (InternVL2-1B) is implemented (InternLM2ForCausalLM is InternVL2-2B/8B,"
                    + " Phi3ForCausalLM InternVL2-4B)");
        }
        try {
            String template = json.string("template", null);
            if (template == null) throw new CheckpointException(where + ": no \"template\" (conversation template name)");
            ConversationTemplate.named(template);   // fails early with the known names
            return new InternVLChatConfig(
                    InternVisionConfig.fromJson(vision, where + " vision_config"),
                    Qwen2Config.fromJson(llm, where + " llm_config"),
                    json.intValue("select_layer", -1),
                    json.has("force_image_size") ? json.intValue("force_image_size", 0) : null,
                    json.doubleValue("downsample_ratio", 0.5),
                    template,
                    json.bool("dynamic_image_size", false),
                    json.bool("use_thumbnail", false),
                    json.string("ps_version", "v1"),
                    json.intValue("min_dynamic_patch", 1),
                    json.intValue("max_dynamic_patch", 6),
                    json.string("system_message", null));
        } catch (Json.JsonException | IllegalArgumentException e) {
            throw new CheckpointException(where + ": " + e.getMessage(), e);
        }
    }
}
