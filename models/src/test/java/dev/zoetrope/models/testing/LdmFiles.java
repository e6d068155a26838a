package dev.zoetrope.models.testing;

import dev.zoetrope.core.SafeTensors;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.models.unet.UNet2DConditionConfig;
import dev.zoetrope.models.vae.AutoencoderKLConfig;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a diffusers Stable Diffusion 1.x folder (unet, vae, text_encoder) as one single-file checkpoint with the
 * original LDM (CompVis) tensor names, renamed by the tests' own diffusers → LDM table (independent of the loader's
 * LDM → diffusers one), for tests of single-file loading.
 */
public final class LdmFiles {
    private LdmFiles() {
    }

    /** {@code diffusersDir}/{unet,vae,text_encoder} → {@code file} with LDM names (plus the buffers real files carry). */
    public static void writeSd1(Path diffusersDir, Path file) throws IOException {
        UNet2DConditionConfig unetConfig = UNet2DConditionConfig.load(diffusersDir.resolve("unet/config.json"));
        AutoencoderKLConfig vaeConfig = AutoencoderKLConfig.load(diffusersDir.resolve("vae/config.json"));
        try (SafeTensors unet = SafeTensors.open(diffusersDir.resolve("unet/diffusion_pytorch_model.safetensors"));
             SafeTensors vae = SafeTensors.open(diffusersDir.resolve("vae/diffusion_pytorch_model.safetensors"));
             SafeTensors text = SafeTensors.open(diffusersDir.resolve("text_encoder/model.safetensors"));
             Scope s = Scope.open()) {
            Map<String, Tensor> ldm = new LinkedHashMap<>();
            int lpb = unetConfig.layersPerBlock()[0];
            for (String n : unet.names()) ldm.put("model.diffusion_model." + ldmUnetName(n, lpb, unet.names()), unet.get(n));
            int levels = vaeConfig.blockOutChannels().length;
            for (String n : vae.names()) {
                Tensor t = vae.get(n);
                boolean projection = n.contains("mid_block.attentions.0.") && n.endsWith(".weight") && !n.contains("group_norm");
                if (projection) t = t.reshape(t.dim(0), t.dim(1), 1, 1);              // LDM stores them as 1×1 convs
                ldm.put("first_stage_model." + ldmVaeName(n, levels), t);
            }
            for (String n : text.names()) ldm.put("cond_stage_model.transformer.text_model." + n, text.get(n));
            ldm.put("cond_stage_model.transformer.text_model.embeddings.position_ids",
                    Tensor.ofLongs(new long[77], 1, 77));                               // a buffer real files carry
            ldm.put("model_ema.decay", Tensor.scalar(0.9999f));                          // ignored, as in diffusers
            SafeTensors.write(file, ldm, Map.of());
        }
    }

    // ---------------------------------------------------------------- diffusers → LDM (the test's own table)

    /** A diffusers UNet tensor name under its LDM (model.diffusion_model-relative) name. */
    public static String ldmUnetName(String n, int lpb, java.util.Set<String> all) {
        String[] p = n.split("\\.");
        return switch (p[0]) {
            case "conv_in" -> "input_blocks.0.0." + rest(p, 1);
            case "time_embedding" -> "time_embed." + (p[1].equals("linear_1") ? "0." : "2.") + rest(p, 2);
            case "conv_norm_out" -> "out.0." + rest(p, 1);
            case "conv_out" -> "out.2." + rest(p, 1);
            case "down_blocks" -> {
                int b = Integer.parseInt(p[1]);
                yield switch (p[2]) {
                    case "resnets" -> "input_blocks." + (1 + b * (lpb + 1) + Integer.parseInt(p[3])) + ".0." + ldmResnet(rest(p, 4));
                    case "attentions" -> "input_blocks." + (1 + b * (lpb + 1) + Integer.parseInt(p[3])) + ".1." + rest(p, 4);
                    case "downsamplers" -> "input_blocks." + ((b + 1) * (lpb + 1)) + ".0.op." + rest(p, 5);
                    default -> throw new AssertionError(n);
                };
            }
            case "mid_block" -> switch (p[1]) {
                case "resnets" -> "middle_block." + (p[2].equals("0") ? 0 : 2) + "." + ldmResnet(rest(p, 3));
                case "attentions" -> "middle_block.1." + rest(p, 3);
                default -> throw new AssertionError(n);
            };
            case "up_blocks" -> {
                int b = Integer.parseInt(p[1]);
                yield switch (p[2]) {
                    case "resnets" -> "output_blocks." + (b * (lpb + 1) + Integer.parseInt(p[3])) + ".0." + ldmResnet(rest(p, 4));
                    case "attentions" -> "output_blocks." + (b * (lpb + 1) + Integer.parseInt(p[3])) + ".1." + rest(p, 4);
                    case "upsamplers" -> {
                        boolean attn = all.stream().anyMatch(x -> x.startsWith("up_blocks." + b + ".attentions."));
                        yield "output_blocks." + (b * (lpb + 1) + lpb) + (attn ? ".2." : ".1.") + rest(p, 4);
                    }
                    default -> throw new AssertionError(n);
                };
            }
            default -> throw new AssertionError(n);
        };
    }

    private static String ldmResnet(String r) {
        return r.replace("norm1.", "in_layers.0.").replace("conv1.", "in_layers.2.").replace("time_emb_proj.", "emb_layers.1.")
                .replace("norm2.", "out_layers.0.").replace("conv2.", "out_layers.3.").replace("conv_shortcut.", "skip_connection.");
    }

    /** A diffusers VAE tensor name under its LDM (first_stage_model-relative) name. */
    public static String ldmVaeName(String n, int levels) {
        String[] p = n.split("\\.");
        if (p[0].equals("quant_conv") || p[0].equals("post_quant_conv")) return n;
        String side = p[0] + ".";
        return switch (p[1]) {
            case "conv_in", "conv_out" -> n;
            case "conv_norm_out" -> side + "norm_out." + rest(p, 2);
            case "down_blocks" -> p[3].equals("resnets")
                    ? side + "down." + p[2] + ".block." + p[4] + "." + rest(p, 5).replace("conv_shortcut.", "nin_shortcut.")
                    : side + "down." + p[2] + ".downsample." + rest(p, 5);
            case "up_blocks" -> {
                int k = levels - 1 - Integer.parseInt(p[2]);
                yield p[3].equals("resnets")
                        ? side + "up." + k + ".block." + p[4] + "." + rest(p, 5).replace("conv_shortcut.", "nin_shortcut.")
                        : side + "up." + k + ".upsample." + rest(p, 5);
            }
            case "mid_block" -> p[2].equals("resnets")
                    ? side + "mid.block_" + (Integer.parseInt(p[3]) + 1) + "." + rest(p, 4).replace("conv_shortcut.", "nin_shortcut.")
                    : side + "mid.attn_1." + switch (p[4]) {
                        case "group_norm" -> "norm." + rest(p, 5);
                        case "to_q" -> "q." + rest(p, 5);
                        case "to_k" -> "k." + rest(p, 5);
                        case "to_v" -> "v." + rest(p, 5);
                        case "to_out" -> "proj_out." + rest(p, 6);
                        default -> throw new AssertionError(n);
                    };
            default -> throw new AssertionError(n);
        };
    }

    private static String rest(String[] p, int from) {
        return String.join(".", java.util.Arrays.copyOfRange(p, from, p.length));
    }
}
