package dev.zoetrope.models.ldm;

import dev.zoetrope.core.CheckpointException;
import dev.zoetrope.core.Json;
import dev.zoetrope.core.Weights;
import dev.zoetrope.models.ldm.RenamedWeights.Source;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The text encoders of LDM single files mapped onto transformers' CLIPTextModel names.
 * <ul>
 * <li>SD 1.x, OpenAI CLIP ({@code cond_stage_model.transformer.*}): already transformers names; the prefix is
 *     dropped (diffusers' {@code convert_ldm_clip_checkpoint}).</li>
 * <li>SD 2.x, OpenCLIP ({@code cond_stage_model.model.*}), as diffusers' {@code convert_open_clip_checkpoint}:
 *     token_embedding, positional_embedding → position_embedding, ln_final → final_layer_norm,
 *     transformer.resblocks.N → encoder.layers.N with ln_1/ln_2 → layer_norm1/2, mlp.c_fc/c_proj → mlp.fc1/fc2,
 *     attn.in_proj_{weight,bias} cut into q/k/v_proj, attn.out_proj → self_attn.out_proj. The last resblock is
 *     dropped: SD 2.x conditions on the penultimate layer (its diffusers text_encoder has one layer less).</li>
 * </ul>
 */
final class ClipKeys {
    static final String OPENAI_PREFIX = "cond_stage_model.transformer.";
    static final String OPEN_CLIP_PREFIX = "cond_stage_model.model.";

    private ClipKeys() {
    }

    static Map<String, Source> mapOpenAi(Set<String> names) {
        Map<String, Source> out = new LinkedHashMap<>();
        for (String n : names) {
            if (!n.startsWith(OPENAI_PREFIX)) continue;
            String key = n.substring(OPENAI_PREFIX.length());
            if (key.endsWith("position_ids")) continue;          // a buffer some exporters saved
            out.put(key, Source.same(n));
        }
        return out;
    }

    static Map<String, Source> mapOpenClip(Set<String> names, Weights base) {
        String p = OPEN_CLIP_PREFIX;
        int[] tokens = UnetKeys.shape(base, p + "token_embedding.weight");
        int width = tokens[1];
        int resblocks = UnetKeys.count(base, p + "transformer.resblocks.");
        if (resblocks < 2) throw new CheckpointException(base.source() + ": OpenCLIP text encoder with " + resblocks + " layers");
        Map<String, Source> out = new LinkedHashMap<>();
        out.put("text_model.embeddings.token_embedding.weight", Source.same(p + "token_embedding.weight"));
        out.put("text_model.embeddings.position_embedding.weight", Source.same(p + "positional_embedding"));
        out.put("text_model.final_layer_norm.weight", Source.same(p + "ln_final.weight"));
        out.put("text_model.final_layer_norm.bias", Source.same(p + "ln_final.bias"));
        for (int i = 0; i < resblocks - 1; i++) {
            String from = p + "transformer.resblocks." + i + ".";
            String to = "text_model.encoder.layers." + i + ".";
            String[][] same = {
                    {"ln_1", "layer_norm1"}, {"ln_2", "layer_norm2"}, {"mlp.c_fc", "mlp.fc1"}, {"mlp.c_proj", "mlp.fc2"},
                    {"attn.out_proj", "self_attn.out_proj"}};
            for (String[] m : same) {
                out.put(to + m[1] + ".weight", Source.same(from + m[0] + ".weight"));
                out.put(to + m[1] + ".bias", Source.same(from + m[0] + ".bias"));
            }
            String[] qkv = {"q_proj", "k_proj", "v_proj"};
            for (int j = 0; j < 3; j++) {
                out.put(to + "self_attn." + qkv[j] + ".weight", Source.rows(from + "attn.in_proj_weight", j * width, width));
                out.put(to + "self_attn." + qkv[j] + ".bias", Source.rows(from + "attn.in_proj_bias", j * width, width));
            }
        }
        return out;
    }

    /**
     * The CLIPTextConfig implied by the (renamed) tensors. CLIP text towers use 64-wide heads (ViT-L/14 768/12,
     * ViT-H/14 1024/16, ViT-bigG 1280/20); a width that is not a multiple of 64 cannot be inferred.
     *
     * @param openClip SD 2.x OpenCLIP (GELU) rather than OpenAI CLIP (quick GELU)
     */
    static Json.Obj inferConfig(Weights w, boolean openClip) {
        String p = w.has("text_model.embeddings.token_embedding.weight") ? "text_model." : "";
        int[] tokens = UnetKeys.shape(w, p + "embeddings.token_embedding.weight");
        int width = tokens[1];
        if (width % 64 != 0) {
            throw new CheckpointException(w.source() + ": cannot infer the head count of a " + width + "-wide CLIP text "
                    + "encoder (not a multiple of 64); pass its config explicitly");
        }
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("vocab_size", (long) tokens[0]);
        c.put("hidden_size", (long) width);
        c.put("num_attention_heads", (long) (width / 64));
        c.put("num_hidden_layers", (long) UnetKeys.count(w, p + "encoder.layers."));
        c.put("intermediate_size", (long) UnetKeys.shape(w, p + "encoder.layers.0.mlp.fc1.weight")[0]);
        c.put("max_position_embeddings", (long) UnetKeys.shape(w, p + "embeddings.position_embedding.weight")[0]);
        c.put("hidden_act", openClip ? "gelu" : "quick_gelu");
        c.put("layer_norm_eps", 1e-5);
        c.put("bos_token_id", 49406L);
        c.put("eos_token_id", 49407L);
        c.put("pad_token_id", openClip ? 0L : 49407L);
        return new Json.Obj(c);
    }
}
