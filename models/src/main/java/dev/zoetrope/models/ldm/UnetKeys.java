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
import java.util.TreeSet;

/**
 * The original LDM (CompVis) UNet layout ({@code model.diffusion_model.*}) mapped onto diffusers names, as
 * diffusers' {@code convert_ldm_unet_checkpoint} maps it, and the UNet config read off the tensor shapes.
 * <pre>
 *   time_embed.0 / .2                  → time_embedding.linear_1 / linear_2
 *   input_blocks.0.0                   → conv_in
 *   input_blocks.i.0 (i ≥ 1)           → down_blocks.b.resnets.l     b = (i−1) / (lpb+1), l = (i−1) % (lpb+1)
 *   input_blocks.i.0.op                → down_blocks.b.downsamplers.0.conv
 *   input_blocks.i.1                   → down_blocks.b.attentions.l
 *   middle_block.0 / .1 / .2           → mid_block.resnets.0 / attentions.0 / resnets.1
 *   output_blocks.i.0                  → up_blocks.b.resnets.l       b = i / (lpb+1),     l = i % (lpb+1)
 *   output_blocks.i.1                  → up_blocks.b.attentions.l (or upsamplers.0 when it is .1.conv)
 *   output_blocks.i.2.conv             → up_blocks.b.upsamplers.0.conv
 *   out.0 / out.2                      → conv_norm_out / conv_out
 *   resnets: in_layers.0 norm1, in_layers.2 conv1, emb_layers.1 time_emb_proj, out_layers.0 norm2,
 *            out_layers.3 conv2, skip_connection conv_shortcut; transformer layers keep their names.
 * </pre>
 */
final class UnetKeys {
    static final String PREFIX = "model.diffusion_model.";

    private UnetKeys() {
    }

    static boolean present(Set<String> names) {
        return names.stream().anyMatch(n -> n.startsWith(PREFIX));
    }

    static Map<String, Source> map(Set<String> names, Path file) {
        Map<String, String> stripped = new LinkedHashMap<>();
        for (String n : names) if (n.startsWith(PREFIX)) stripped.put(n.substring(PREFIX.length()), n);
        for (String k : stripped.keySet()) {
            if (k.startsWith("label_emb.")) {
                throw new CheckpointException(file + ": the UNet has class/addition embeddings ('" + PREFIX + k
                        + "'): an SDXL or upscaler checkpoint, not Stable Diffusion 1.x/2.x");
            }
        }
        int lpb = layersPerBlock(stripped.keySet(), file);
        Map<String, Source> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : stripped.entrySet()) {
            String target;
            try {
                target = diffusersName(e.getKey(), lpb);
            } catch (NumberFormatException bad) {
                throw new CheckpointException(file + ": unexpected UNet tensor name '" + e.getValue() + "'");
            }
            if (target != null) out.put(target, Source.same(e.getValue()));
        }
        return out;
    }

    /**
     * Layers per down block: the first downsampler ({@code input_blocks.i.0.op}) sits at i = lpb + 1. Every
     * level must have the same count (diffusers' conversion assumes it too).
     */
    private static int layersPerBlock(Set<String> keys, Path file) {
        int numInput = 0;
        Set<Integer> ops = new TreeSet<>();
        for (String k : keys) {
            String[] p = k.split("\\.");
            if (p[0].equals("input_blocks") && p.length > 1) {
                int i;
                try {
                    i = Integer.parseInt(p[1]);
                } catch (NumberFormatException bad) {
                    throw new CheckpointException(file + ": unexpected UNet tensor name '" + PREFIX + k + "'");
                }
                numInput = Math.max(numInput, i + 1);
                if (p.length > 3 && p[2].equals("0") && p[3].equals("op")) ops.add(i);
            }
        }
        if (numInput < 2) throw new CheckpointException(file + ": no '" + PREFIX + "input_blocks.*' tensors");
        int lpb = ops.isEmpty() ? numInput - 1 : ops.iterator().next() - 1;
        int k = 1;
        for (int op : ops) {
            if (op != k * (lpb + 1)) {
                throw new CheckpointException(file + ": downsampler at '" + PREFIX + "input_blocks." + op + ".0.op' does not "
                        + "fit " + lpb + " layers per block (levels of different depth are not supported)");
            }
            k++;
        }
        return lpb;
    }

    private static String diffusersName(String key, int lpb) {
        String[] p = key.split("\\.");
        String rest2 = tail(p, 2), rest3 = tail(p, 3);
        switch (part(p, 0)) {
            case "time_embed":
                if (part(p, 1).equals("0")) return "time_embedding.linear_1." + rest2;
                if (part(p, 1).equals("2")) return "time_embedding.linear_2." + rest2;
                return null;
            case "out":
                if (part(p, 1).equals("0")) return "conv_norm_out." + rest2;
                if (part(p, 1).equals("2")) return "conv_out." + rest2;
                return null;
            case "input_blocks": {
                int i = Integer.parseInt(part(p, 1));
                if (i == 0) return part(p, 2).equals("0") ? "conv_in." + rest3 : null;
                int block = (i - 1) / (lpb + 1), layer = (i - 1) % (lpb + 1);
                String b = "down_blocks." + block + ".";
                if (part(p, 2).equals("0")) {
                    if (part(p, 3).equals("op")) return b + "downsamplers.0.conv." + tail(p, 4);
                    return b + "resnets." + layer + "." + resnetName(rest3);
                }
                if (part(p, 2).equals("1")) return b + "attentions." + layer + "." + rest3;
                return null;
            }
            case "middle_block": {
                int j = Integer.parseInt(part(p, 1));
                return j % 2 == 0 ? "mid_block.resnets." + (j / 2) + "." + resnetName(rest2)
                        : "mid_block.attentions." + (j / 2) + "." + rest2;
            }
            case "output_blocks": {
                int i = Integer.parseInt(part(p, 1));
                int block = i / (lpb + 1), layer = i % (lpb + 1);
                String b = "up_blocks." + block + ".";
                switch (part(p, 2)) {
                    case "0":
                        return b + "resnets." + layer + "." + resnetName(rest3);
                    case "1":
                        return part(p, 3).equals("conv") ? b + "upsamplers.0.conv." + tail(p, 4) : b + "attentions." + layer + "." + rest3;
                    case "2":
                        return part(p, 3).equals("conv") ? b + "upsamplers.0.conv." + tail(p, 4) : null;
                    default:
                        return null;
                }
            }
            default:
                return null;
        }
    }

    /** LDM ResBlock sub-module names → diffusers ResnetBlock2D names. */
    private static String resnetName(String rest) {
        String[][] renames = {
                {"in_layers.0.", "norm1."}, {"in_layers.2.", "conv1."}, {"out_layers.0.", "norm2."},
                {"out_layers.3.", "conv2."}, {"emb_layers.1.", "time_emb_proj."}, {"skip_connection.", "conv_shortcut."}};
        for (String[] r : renames) if (rest.startsWith(r[0])) return r[1] + rest.substring(r[0].length());
        return rest;
    }

    /** parts[i] of a dotted name, or "" past its end. */
    static String part(String[] parts, int i) {
        return i < parts.length ? parts[i] : "";
    }

    /** parts[from..] joined by dots ("" past the end). */
    static String tail(String[] parts, int from) {
        return String.join(".", java.util.Arrays.copyOfRange(parts, Math.min(from, parts.length), parts.length));
    }

    /**
     * The UNet config implied by the (renamed) tensors: block widths, layers, block types, in/out channels,
     * cross-attention width, linear vs conv projections, transformer depth. The head count is not stored in
     * a checkpoint: a 1024-wide context (OpenCLIP ViT-H, SD 2.x) means 64-wide heads, anything else 8 heads
     * (SD 1.x), as the original LDM configs set them.
     */
    static Json.Obj inferConfig(Weights w) {
        Path file = w.source();
        int[] convIn = shape(w, "conv_in.weight");
        int levels = count(w, "down_blocks.");
        if (levels == 0) throw new CheckpointException(file + ": no UNet down blocks found");
        int lpb = count(w, "down_blocks.0.resnets.");
        List<Object> blockOut = new ArrayList<>(), down = new ArrayList<>(), up = new ArrayList<>(), layers = new ArrayList<>();
        int crossDim = 0;
        Boolean linearProjection = null;
        for (int b = 0; b < levels; b++) {
            blockOut.add((long) shape(w, "down_blocks." + b + ".resnets.0.conv1.weight")[0]);
            boolean attn = w.has("down_blocks." + b + ".attentions.0.proj_in.weight");
            down.add(attn ? "CrossAttnDownBlock2D" : "DownBlock2D");
            up.add(w.has("up_blocks." + b + ".attentions.0.proj_in.weight") ? "CrossAttnUpBlock2D" : "UpBlock2D");
            layers.add((long) (attn ? count(w, "down_blocks." + b + ".attentions.0.transformer_blocks.") : 1));
            if (attn && crossDim == 0) {
                crossDim = shape(w, "down_blocks." + b + ".attentions.0.transformer_blocks.0.attn2.to_k.weight")[1];
                linearProjection = shape(w, "down_blocks." + b + ".attentions.0.proj_in.weight").length == 2;
            }
        }
        String mid = w.has("mid_block.attentions.0.proj_in.weight") ? "UNetMidBlock2DCrossAttn"
                : w.has("mid_block.resnets.0.conv1.weight") ? "UNetMidBlock2D" : null;
        if (crossDim == 0 && mid != null && mid.equals("UNetMidBlock2DCrossAttn")) {
            crossDim = shape(w, "mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight")[1];
            linearProjection = shape(w, "mid_block.attentions.0.proj_in.weight").length == 2;
        }
        List<Object> heads = new ArrayList<>();
        for (Object ch : blockOut) heads.add(crossDim == 1024 ? (Long) ch / 64 : 8L);

        Map<String, Object> c = new LinkedHashMap<>();
        c.put("in_channels", (long) convIn[1]);
        c.put("conv_in_kernel", (long) convIn[2]);
        int[] convOut = shape(w, "conv_out.weight");
        c.put("out_channels", (long) convOut[0]);
        c.put("conv_out_kernel", (long) convOut[2]);
        c.put("block_out_channels", blockOut);
        c.put("layers_per_block", (long) lpb);
        c.put("down_block_types", down);
        c.put("up_block_types", up);
        c.put("mid_block_type", mid == null ? Json.NULL : mid);
        c.put("cross_attention_dim", (long) (crossDim == 0 ? 768 : crossDim));
        c.put("attention_head_dim", heads);
        c.put("use_linear_projection", linearProjection != null && linearProjection);
        c.put("transformer_layers_per_block", layers);
        c.put("time_embedding_dim", (long) shape(w, "time_embedding.linear_1.weight")[0]);
        return new Json.Obj(c);
    }

    /** Number of distinct indices N in names {@code <prefix>N.…}. */
    static int count(Weights w, String prefix) {
        Set<Integer> seen = new TreeSet<>();
        for (String n : w.names()) {
            if (!n.startsWith(prefix)) continue;
            String rest = n.substring(prefix.length());
            int dot = rest.indexOf('.');
            if (dot <= 0) continue;
            try {
                seen.add(Integer.parseInt(rest.substring(0, dot)));
            } catch (NumberFormatException notAnIndex) {
                // a sibling module, not an indexed child
            }
        }
        return seen.size();
    }

    static int[] shape(Weights w, String name) {
        var info = w.info(name);
        if (info == null) throw new CheckpointException(w.source() + ": missing tensor for '" + name + "'");
        return info.shape();
    }
}
