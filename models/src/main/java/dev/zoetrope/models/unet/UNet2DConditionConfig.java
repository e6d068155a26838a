package dev.zoetrope.models.unet;

import dev.zoetrope.core.CheckpointException;
import dev.zoetrope.core.Json;
import dev.zoetrope.models.nn.Activation;
import dev.zoetrope.models.nn.Configs;

import java.nio.file.Path;
import java.util.List;

/**
 * {@code unet/config.json} of a diffusers {@code UNet2DConditionModel}, resolved the way its constructor resolves
 * it (per-block lists from scalars, heads from attention_head_dim, reversed lists for the up path), with the
 * reference defaults. Everything Stable Diffusion 1.x/2.x (incl. 9-channel inpainting) uses is supported; the
 * extra conditioning of other families (class / addition embeddings, encoder_hid_proj, GLIGEN, Fourier time
 * embedding, dual cross-attention, timestep_cond) is refused with an error naming the field.
 *
 * @param headsPerBlock     attention heads of each down block (diffusers' num_attention_heads, which for these
 *                          configs is read from {@code attention_head_dim} — a historical misnomer)
 * @param transformerLayersUp transformer layers of each up block (reverse_transformer_layers_per_block or reversed)
 */
public record UNet2DConditionConfig(
        int sampleSize,
        int inChannels,
        int outChannels,
        boolean centerInputSample,
        boolean flipSinToCos,
        float freqShift,
        List<String> downBlockTypes,
        String midBlockType,
        List<String> upBlockTypes,
        boolean[] onlyCrossAttention,
        int[] blockOutChannels,
        int[] layersPerBlock,
        int downsamplePadding,
        float midBlockScaleFactor,
        Activation act,
        int normNumGroups,
        float normEps,
        int[] crossAttentionDim,
        int[] transformerLayersPerBlock,
        int[] transformerLayersUp,
        int[] headsPerBlock,
        boolean useLinearProjection,
        boolean upcastAttention,
        boolean resnetScaleShift,
        boolean resnetSkipTimeAct,
        int timeEmbeddingDim,
        Activation timeEmbeddingAct,
        Activation timestepPostAct,
        int convInKernel,
        int convOutKernel) {

    public int numBlocks() {
        return blockOutChannels.length;
    }

    public int timestepInputDim() {
        return blockOutChannels[0];
    }

    public static UNet2DConditionConfig load(Path file) {
        return parse(Configs.read(file), file.toString());
    }

    /** @param where the config's origin, for error messages */
    public static UNet2DConditionConfig parse(Json.Obj c, String where) {
        try {
            return parseChecked(c, where);
        } catch (Json.JsonException | IllegalArgumentException e) {
            throw new CheckpointException(where + ": " + e.getMessage(), e);
        }
    }

    private static UNet2DConditionConfig parseChecked(Json.Obj c, String where) {
        refuseIfSet(c, where, "class_embed_type", "class embeddings (not Stable Diffusion 1.x/2.x)");
        refuseIfSet(c, where, "num_class_embeds", "class embeddings (not Stable Diffusion 1.x/2.x)");
        refuseIfSet(c, where, "addition_embed_type", "addition embeddings (SDXL/Kandinsky style)");
        refuseIfSet(c, where, "encoder_hid_dim", "encoder_hid_proj");
        refuseIfSet(c, where, "encoder_hid_dim_type", "encoder_hid_proj");
        refuseIfSet(c, where, "time_cond_proj_dim", "timestep_cond (LCM style)");
        refuseIfSet(c, where, "cross_attention_norm", "cross_attention_norm");
        if (c.bool("dual_cross_attention", false)) throw unsupported(where, "dual_cross_attention", "true");
        if (c.bool("class_embeddings_concat", false)) throw unsupported(where, "class_embeddings_concat", "true");
        String attentionType = c.string("attention_type", "default");
        if (!attentionType.equals("default")) throw unsupported(where, "attention_type", attentionType);
        String timeEmbeddingType = c.string("time_embedding_type", "positional");
        if (!timeEmbeddingType.equals("positional")) throw unsupported(where, "time_embedding_type", timeEmbeddingType);

        List<String> down = Configs.strings(c, "down_block_types",
                List.of("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"), where);
        List<String> up = Configs.strings(c, "up_block_types",
                List.of("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"), where);
        down.replaceAll(UNet2DConditionConfig::stripResPrefix);
        up.replaceAll(UNet2DConditionConfig::stripResPrefix);
        for (String t : down) {
            if (!t.equals("DownBlock2D") && !t.equals("CrossAttnDownBlock2D")) throw unsupported(where, "down_block_types", t);
        }
        for (String t : up) {
            if (!t.equals("UpBlock2D") && !t.equals("CrossAttnUpBlock2D")) throw unsupported(where, "up_block_types", t);
        }
        int n = down.size();
        if (up.size() != n) {
            throw new CheckpointException(where + ": " + n + " down_block_types but " + up.size() + " up_block_types");
        }
        int[] blockOut = c.ints("block_out_channels", new int[] {320, 640, 1280, 1280});
        if (blockOut.length != n) {
            throw new CheckpointException(where + ": " + blockOut.length + " block_out_channels for " + n + " down blocks");
        }
        String mid = c.has("mid_block_type") || !c.map().containsKey("mid_block_type")
                ? c.string("mid_block_type", "UNetMidBlock2DCrossAttn") : null;   // an explicit null means no mid block
        if (mid != null && !mid.equals("UNetMidBlock2DCrossAttn") && !mid.equals("UNetMidBlock2D")) {
            throw unsupported(where, "mid_block_type", mid);
        }
        boolean[] onlyCross = Configs.boolsOrScalar(c, "only_cross_attention", n, false, where);
        // mid_block_only_cross_attention only concerns UNetMidBlock2DSimpleCrossAttn (not supported); the
        // cross-attention mid block never gets only_cross_attention in diffusers.
        int[] layers = Configs.intsOrScalar(c, "layers_per_block", n, 2, where);
        int[] cross = Configs.intsOrScalar(c, "cross_attention_dim", n, 1280, where);

        // transformer_layers_per_block: an int or one int per block; nested lists (asymmetric UNets) need
        // reverse_transformer_layers_per_block and are not Stable Diffusion 1.x/2.x.
        Object tl = c.raw("transformer_layers_per_block");
        if (tl instanceof List<?> l && l.stream().anyMatch(e -> e instanceof List)) {
            throw unsupported(where, "transformer_layers_per_block", "nested lists");
        }
        int[] transformerLayers = Configs.intsOrScalar(c, "transformer_layers_per_block", n, 1, where);
        int[] transformerUp;
        if (c.has("reverse_transformer_layers_per_block")) {
            Object r = c.raw("reverse_transformer_layers_per_block");
            if (r instanceof List<?> l && l.stream().anyMatch(e -> e instanceof List)) {
                throw unsupported(where, "reverse_transformer_layers_per_block", "nested lists");
            }
            transformerUp = Configs.intsOrScalar(c, "reverse_transformer_layers_per_block", n, 1, where);
        } else {
            transformerUp = reversed(transformerLayers);
        }

        // diffusers: num_attention_heads = num_attention_heads or attention_head_dim (it refuses an explicit
        // num_attention_heads in this class; accepting it with that meaning is harmless).
        String headsKey = c.has("num_attention_heads") ? "num_attention_heads" : "attention_head_dim";
        int[] heads = Configs.intsOrScalar(c, headsKey, n, 8, where);
        for (int i = 0; i < n; i++) {
            if (heads[i] <= 0 || blockOut[i] % heads[i] != 0) {
                throw new CheckpointException(where + ": block " + i + " has " + blockOut[i] + " channels, not divisible by "
                        + heads[i] + " attention heads (" + headsKey + ")");
            }
        }

        if (!c.has("norm_num_groups") && c.map().containsKey("norm_num_groups")) {
            throw unsupported(where, "norm_num_groups", "null");
        }
        int groups = c.intValue("norm_num_groups", 32);
        Activation act = Activation.fromConfig(c.string("act_fn", "silu"), where + " act_fn");
        String shift = c.string("resnet_time_scale_shift", "default");
        if (!shift.equals("default") && !shift.equals("scale_shift")) throw unsupported(where, "resnet_time_scale_shift", shift);
        int timeEmbeddingDim = c.intValue("time_embedding_dim", blockOut[0] * 4);
        Activation timeEmbeddingAct = c.has("time_embedding_act_fn")
                ? Activation.fromConfig(c.string("time_embedding_act_fn", null), where + " time_embedding_act_fn") : null;
        Activation postAct = c.has("timestep_post_act")
                ? Activation.fromConfig(c.string("timestep_post_act", null), where + " timestep_post_act") : null;
        Object sample = c.raw("sample_size");
        int sampleSize = sample instanceof List<?> l && !l.isEmpty() && l.get(0) instanceof Number num ? num.intValue()
                : c.intValue("sample_size", 64);
        int convIn = c.intValue("conv_in_kernel", 3), convOut = c.intValue("conv_out_kernel", 3);
        if (convIn % 2 == 0 || convOut % 2 == 0) throw unsupported(where, "conv_in_kernel/conv_out_kernel", "even size");

        return new UNet2DConditionConfig(sampleSize,
                c.intValue("in_channels", 4), c.intValue("out_channels", 4),
                c.bool("center_input_sample", false), c.bool("flip_sin_to_cos", true),
                (float) c.doubleValue("freq_shift", 0),
                List.copyOf(down), mid, List.copyOf(up), onlyCross, blockOut, layers,
                c.intValue("downsample_padding", 1), (float) c.doubleValue("mid_block_scale_factor", 1),
                act, groups, (float) c.doubleValue("norm_eps", 1e-5), cross, transformerLayers, transformerUp, heads,
                c.bool("use_linear_projection", false), c.bool("upcast_attention", false),
                shift.equals("scale_shift"), c.bool("resnet_skip_time_act", false),
                timeEmbeddingDim, timeEmbeddingAct, postAct, convIn, convOut);
    }

    private static String stripResPrefix(String type) {
        return type.startsWith("UNetRes") ? type.substring(7) : type;
    }

    private static int[] reversed(int[] a) {
        int[] r = new int[a.length];
        for (int i = 0; i < a.length; i++) r[i] = a[a.length - 1 - i];
        return r;
    }

    private static void refuseIfSet(Json.Obj c, String where, String key, String what) {
        if (c.has(key)) throw new CheckpointException(where + ": \"" + key + "\" = " + c.raw(key) + " asks for " + what
                + ", which this UNet2DConditionModel does not support");
    }

    private static CheckpointException unsupported(String where, String key, String value) {
        return new CheckpointException(where + ": unsupported " + key + " \"" + value + "\" (supported: the Stable Diffusion "
                + "1.x/2.x UNet: DownBlock2D/CrossAttnDownBlock2D, UpBlock2D/CrossAttnUpBlock2D, "
                + "UNetMidBlock2DCrossAttn/UNetMidBlock2D)");
    }
}
