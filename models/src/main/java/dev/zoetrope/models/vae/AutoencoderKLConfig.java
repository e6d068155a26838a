package dev.zoetrope.models.vae;

import dev.zoetrope.core.CheckpointException;
import dev.zoetrope.core.Json;
import dev.zoetrope.models.nn.Activation;
import dev.zoetrope.models.nn.Configs;

import java.nio.file.Path;
import java.util.List;

/**
 * {@code vae/config.json} of a diffusers {@code AutoencoderKL}, with the reference defaults.
 *
 * @param sampleSize     tile size in pixels for tiled encode/decode (diffusers' tile_sample_min_size)
 * @param scalingFactor  latents = scaling_factor · (z − shift_factor); decode divides first
 * @param shiftFactor    0 when absent (SD 1.x/2.x)
 * @param latentsMean    per-channel latent statistics some VAEs publish, or null
 * @param latentsStd     likewise, or null
 */
public record AutoencoderKLConfig(
        int inChannels,
        int outChannels,
        int[] blockOutChannels,
        int layersPerBlock,
        Activation act,
        int latentChannels,
        int normNumGroups,
        int sampleSize,
        float scalingFactor,
        float shiftFactor,
        double[] latentsMean,
        double[] latentsStd,
        boolean useQuantConv,
        boolean usePostQuantConv,
        boolean midBlockAddAttention) {

    /** 2^(number of blocks − 1): pixels per latent along each axis. */
    public int scaleFactor() {
        return 1 << (blockOutChannels.length - 1);
    }

    public static AutoencoderKLConfig load(Path file) {
        return parse(Configs.read(file), file.toString());
    }

    public static AutoencoderKLConfig parse(Json.Obj c, String where) {
        try {
            List<String> down = Configs.strings(c, "down_block_types", List.of("DownEncoderBlock2D"), where);
            List<String> up = Configs.strings(c, "up_block_types", List.of("UpDecoderBlock2D"), where);
            for (String t : down) {
                if (!t.equals("DownEncoderBlock2D")) throw unsupported(where, "down_block_types", t);
            }
            for (String t : up) {
                if (!t.equals("UpDecoderBlock2D")) throw unsupported(where, "up_block_types", t);
            }
            int[] blocks = c.ints("block_out_channels", new int[] {64});
            if (down.size() != blocks.length || up.size() != blocks.length) {
                throw new CheckpointException(where + ": " + blocks.length + " block_out_channels but " + down.size()
                        + " down_block_types and " + up.size() + " up_block_types");
            }
            Object sample = c.raw("sample_size");
            int sampleSize = sample instanceof List<?> l && !l.isEmpty() && l.get(0) instanceof Number n ? n.intValue()
                    : c.intValue("sample_size", 32);
            return new AutoencoderKLConfig(
                    c.intValue("in_channels", 3), c.intValue("out_channels", 3), blocks,
                    c.intValue("layers_per_block", 1),
                    Activation.fromConfig(c.string("act_fn", "silu"), where + " act_fn"),
                    c.intValue("latent_channels", 4), c.intValue("norm_num_groups", 32), sampleSize,
                    (float) c.doubleValue("scaling_factor", 0.18215), (float) c.doubleValue("shift_factor", 0),
                    doubles(c, "latents_mean"), doubles(c, "latents_std"),
                    c.bool("use_quant_conv", true), c.bool("use_post_quant_conv", true),
                    c.bool("mid_block_add_attention", true));
        } catch (Json.JsonException | IllegalArgumentException e) {
            throw new CheckpointException(where + ": " + e.getMessage(), e);
        }
    }

    private static double[] doubles(Json.Obj c, String key) {
        List<Object> l = c.list(key);
        if (l == null) return null;
        double[] out = new double[l.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(l.get(i) instanceof Number n)) throw new Json.JsonException("\"" + key + "\" should hold numbers");
            out[i] = n.doubleValue();
        }
        return out;
    }

    private static CheckpointException unsupported(String where, String key, String value) {
        return new CheckpointException(where + ": unsupported " + key + " \"" + value
                + "\" (AutoencoderKL supports DownEncoderBlock2D / UpDecoderBlock2D)");
    }
}
