package dev.zoetrope.models.ldm;

import dev.zoetrope.core.CheckpointException;
import dev.zoetrope.core.Json;
import dev.zoetrope.core.Weights;
import dev.zoetrope.models.ldm.RenamedWeights.Source;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.zoetrope.models.ldm.UnetKeys.part;
import static dev.zoetrope.models.ldm.UnetKeys.tail;

/**
 * The original LDM autoencoder layout ({@code first_stage_model.*}, {@code vae.*} or unprefixed) mapped onto diffusers
 * names as diffusers' {@code convert_ldm_vae_checkpoint} maps it, and the config read off the shapes.
 * <pre>
 *   {encoder,decoder}.conv_in / conv_out / norm_out     → … conv_in / conv_out / conv_norm_out
 *   encoder.down.i.block.j                              → encoder.down_blocks.i.resnets.j
 *   encoder.down.i.downsample.conv                      → encoder.down_blocks.i.downsamplers.0.conv
 *   decoder.up.k.block.j                                → decoder.up_blocks.(n−1−k).resnets.j   (LDM counts up from the bottom)
 *   decoder.up.k.upsample.conv                          → decoder.up_blocks.(n−1−k).upsamplers.0.conv
 *   *.mid.block_1 / block_2                             → *.mid_block.resnets.0 / 1
 *   *.mid.attn_1.{norm,q,k,v,proj_out}                  → *.mid_block.attentions.0.{group_norm,to_q,to_k,to_v,to_out.0}
 *                                                         (q/k/v/proj_out weights stored as 1×1 convs → [C, C])
 *   nin_shortcut → conv_shortcut; quant_conv and post_quant_conv keep their names.
 * </pre>
 */
final class VaeKeys {
    static final String[] PREFIXES = {"first_stage_model.", "vae."};

    private VaeKeys() {
    }

    /**
     * The VAE's prefix in this file: first_stage_model. / vae., or "" for a standalone LDM VAE file (as shared
     * for fine-tuned VAEs, e.g. vae-ft-mse-840000); null when there is no VAE.
     */
    static String prefix(Set<String> names) {
        for (String p : PREFIXES) if (names.stream().anyMatch(n -> n.startsWith(p))) return p;
        if (names.contains("encoder.conv_in.weight") && names.contains("decoder.conv_in.weight")
                && names.stream().anyMatch(n -> n.startsWith("encoder.down.0."))) {
            return "";
        }
        return null;
    }

    static Map<String, Source> map(Set<String> names, String prefix, Path file) {
        try {
            return mapChecked(names, prefix);
        } catch (NumberFormatException bad) {
            throw new CheckpointException(file + ": unexpected VAE tensor name (" + bad.getMessage() + ")");
        }
    }

    private static Map<String, Source> mapChecked(Set<String> names, String prefix) {
        int upLevels = 0;
        for (String n : names) {
            if (n.startsWith(prefix + "decoder.up.")) {
                String[] p = n.substring(prefix.length()).split("\\.");
                upLevels = Math.max(upLevels, Integer.parseInt(part(p, 2)) + 1);
            }
        }
        Map<String, Source> out = new LinkedHashMap<>();
        for (String n : names) {
            if (!n.startsWith(prefix)) continue;
            String key = n.substring(prefix.length());
            String[] p = key.split("\\.");
            String target = diffusersName(p, upLevels);
            if (target == null) continue;
            boolean attnProjection = p.length == 5 && p[1].equals("mid") && p[2].equals("attn_1")
                    && !p[3].equals("norm") && p[4].equals("weight");
            out.put(target, attnProjection ? Source.squeezed(n) : Source.same(n));
        }
        return out;
    }

    private static String diffusersName(String[] p, int upLevels) {
        if (part(p, 0).equals("quant_conv") || part(p, 0).equals("post_quant_conv")) return String.join(".", p);
        if (!part(p, 0).equals("encoder") && !part(p, 0).equals("decoder")) return null;
        String side = part(p, 0) + ".";
        switch (part(p, 1)) {
            case "conv_in", "conv_out":
                return String.join(".", p);
            case "norm_out":
                return side + "conv_norm_out." + tail(p, 2);
            case "mid":
                if (part(p, 2).equals("block_1")) return side + "mid_block.resnets.0." + shortcut(tail(p, 3));
                if (part(p, 2).equals("block_2")) return side + "mid_block.resnets.1." + shortcut(tail(p, 3));
                if (part(p, 2).equals("attn_1")) {
                    String module = switch (part(p, 3)) {
                        case "norm" -> "group_norm";
                        case "q" -> "to_q";
                        case "k" -> "to_k";
                        case "v" -> "to_v";
                        case "proj_out" -> "to_out.0";
                        default -> null;
                    };
                    return module == null ? null : side + "mid_block.attentions.0." + module + "." + tail(p, 4);
                }
                return null;
            case "down":
                if (!part(p, 0).equals("encoder")) return null;
                if (part(p, 3).equals("block")) return side + "down_blocks." + part(p, 2) + ".resnets." + part(p, 4) + "." + shortcut(tail(p, 5));
                if (part(p, 3).equals("downsample")) return side + "down_blocks." + part(p, 2) + ".downsamplers.0." + tail(p, 4);
                return null;
            case "up":
                if (!part(p, 0).equals("decoder")) return null;
                int block = upLevels - 1 - Integer.parseInt(part(p, 2));
                if (part(p, 3).equals("block")) return side + "up_blocks." + block + ".resnets." + part(p, 4) + "." + shortcut(tail(p, 5));
                if (part(p, 3).equals("upsample")) return side + "up_blocks." + block + ".upsamplers.0." + tail(p, 4);
                return null;
            default:
                return null;
        }
    }

    private static String shortcut(String rest) {
        return rest.startsWith("nin_shortcut.") ? "conv_shortcut." + rest.substring("nin_shortcut.".length()) : rest;
    }

    /** The AutoencoderKL config implied by the (renamed) tensors; scaling_factor is LDM's 0.18215. */
    static Json.Obj inferConfig(Weights w) {
        Path file = w.source();
        int levels = UnetKeys.count(w, "encoder.down_blocks.");
        if (levels == 0) throw new CheckpointException(file + ": no VAE encoder blocks found");
        List<Object> blockOut = new ArrayList<>(), down = new ArrayList<>(), up = new ArrayList<>();
        for (int i = 0; i < levels; i++) {
            blockOut.add((long) UnetKeys.shape(w, "encoder.down_blocks." + i + ".resnets.0.conv1.weight")[0]);
            down.add("DownEncoderBlock2D");
            up.add("UpDecoderBlock2D");
        }
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("in_channels", (long) UnetKeys.shape(w, "encoder.conv_in.weight")[1]);
        c.put("out_channels", (long) UnetKeys.shape(w, "decoder.conv_out.weight")[0]);
        c.put("latent_channels", (long) UnetKeys.shape(w, "decoder.conv_in.weight")[1]);
        c.put("block_out_channels", blockOut);
        c.put("down_block_types", down);
        c.put("up_block_types", up);
        c.put("layers_per_block", (long) UnetKeys.count(w, "encoder.down_blocks.0.resnets."));
        c.put("use_quant_conv", w.has("quant_conv.weight"));
        c.put("use_post_quant_conv", w.has("post_quant_conv.weight"));
        c.put("mid_block_add_attention", w.has("encoder.mid_block.attentions.0.to_q.weight"));
        c.put("scaling_factor", 0.18215);
        c.put("sample_size", 512L);
        return new Json.Obj(c);
    }
}
