package dev.zoetrope.models.vae;

import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.Weights;
import dev.zoetrope.models.nn.Configs;
import dev.zoetrope.models.nn.Conv2d;
import dev.zoetrope.models.nn.Params;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;

import static dev.zoetrope.core.Ops.add;
import static dev.zoetrope.core.Ops.clamp;
import static dev.zoetrope.core.Ops.concat;
import static dev.zoetrope.core.Ops.mul;

/**
 * diffusers {@code AutoencoderKL}: {@link #encode} images in [−1, 1] (NCHW) to the latent posterior,
 * {@link #decode} latents back to images. Scaling by {@code scaling_factor} is the caller's (the pipelines')
 * job, as in diffusers. {@link #withTiling} gives the tiled variant diffusers enables with
 * {@code enable_tiling()}: overlapping tiles of {@code sample_size} pixels, blended linearly over a quarter
 * of a tile, so memory stays bounded for large images (the result differs slightly from untiled by design).
 * Weights: encoder.*, quant_conv, post_quant_conv, decoder.*.
 */
public final class AutoencoderKL implements AutoCloseable {
    /**
     * Tiling settings (diffusers' tile_sample_min_size and tile_overlap_factor).
     *
     * @param sampleSize    tile size in pixels; latent tiles are sampleSize / scale factor
     * @param overlapFactor fraction of a tile shared with its neighbour (0.25 in diffusers)
     */
    public record Tiling(int sampleSize, double overlapFactor) {
        public Tiling {
            if (sampleSize <= 0 || overlapFactor < 0 || overlapFactor >= 1) {
                throw new IllegalArgumentException("bad tiling: sample size " + sampleSize + ", overlap " + overlapFactor);
            }
        }
    }

    private final AutoencoderKLConfig config;
    private final Weights weights;
    private final boolean ownsWeights;
    private final VaeEncoder encoder;
    private final VaeDecoder decoder;
    private final Conv2d quantConv;       // 1×1, 2·latent → 2·latent; null when use_quant_conv is false
    private final Conv2d postQuantConv;   // 1×1, latent → latent; null when use_post_quant_conv is false
    private final Tiling tiling;          // null: never tile automatically

    private AutoencoderKL(AutoencoderKLConfig config, Weights weights, boolean ownsWeights, VaeEncoder encoder,
                          VaeDecoder decoder, Conv2d quantConv, Conv2d postQuantConv, Tiling tiling) {
        this.config = config;
        this.weights = weights;
        this.ownsWeights = ownsWeights;
        this.encoder = encoder;
        this.decoder = decoder;
        this.quantConv = quantConv;
        this.postQuantConv = postQuantConv;
        this.tiling = tiling;
    }

    private static AutoencoderKL build(AutoencoderKLConfig c, Weights weights, boolean owns) {
        Params p = Params.of(weights);
        int latent = c.latentChannels();
        return new AutoencoderKL(c, weights, owns,
                new VaeEncoder(p.child("encoder"), c),
                new VaeDecoder(p.child("decoder"), c),
                c.useQuantConv() ? Conv2d.load(p.child("quant_conv"), 2 * latent, 2 * latent, 1, 1, 0, true) : null,
                c.usePostQuantConv() ? Conv2d.load(p.child("post_quant_conv"), latent, latent, 1, 1, 0, true) : null,
                null);
    }

    /** Loads a diffusers {@code vae/} folder (config.json + diffusion_pytorch_model.safetensors). */
    public static AutoencoderKL load(Path dir) {
        AutoencoderKLConfig config = AutoencoderKLConfig.load(dir.resolve("config.json"));
        Weights weights = Configs.openWeights(dir, "diffusion_pytorch_model");
        try {
            return build(config, weights, true);
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
    }

    /** A model over weights the caller owns (closing the model leaves them open). */
    public static AutoencoderKL of(AutoencoderKLConfig config, Weights weights) {
        return build(config, weights, false);
    }

    /**
     * This VAE with automatic tiling (null turns it off): {@link #encode}/{@link #decode} tile inputs larger
     * than a tile. The returned instance shares the weights; closing it does not close them.
     */
    public AutoencoderKL withTiling(Tiling t) {
        return new AutoencoderKL(config, weights, false, encoder, decoder, quantConv, postQuantConv, t);
    }

    /** Tiling as diffusers' enable_tiling(): tiles of config sample_size, overlap 0.25. */
    public AutoencoderKL withDefaultTiling() {
        return withTiling(new Tiling(config.sampleSize(), 0.25));
    }

    public AutoencoderKLConfig config() {
        return config;
    }

    public float scalingFactor() {
        return config.scalingFactor();
    }

    /** Images x[N, 3, H, W] in [−1, 1] → latent posterior [N, latent, H/f, W/f] (tiled when enabled and large). */
    public DiagonalGaussian encode(Tensor x) {
        checkImage(x);
        try (Scope s = Scope.open()) {
            Tensor moments = tiling != null && (x.dim(3) > tiling.sampleSize() || x.dim(2) > tiling.sampleSize())
                    ? tiledMoments(x, tiling) : moments(x);
            return keep(s, posterior(moments));
        }
    }

    /** Tiled encoding regardless of the image size (diffusers' tiled_encode). */
    public DiagonalGaussian tiledEncode(Tensor x, Tiling t) {
        checkImage(x);
        try (Scope s = Scope.open()) {
            return keep(s, posterior(tiledMoments(x, t)));
        }
    }

    /** Latents z[N, latent, h, w] (already divided by scaling_factor) → images [N, 3, h·f, w·f], unclamped. */
    public Tensor decode(Tensor z) {
        checkLatents(z);
        if (tiling != null) {
            int latentTile = latentTile(tiling);
            if (z.dim(3) > latentTile || z.dim(2) > latentTile) return tiledDecode(z, tiling);
        }
        try (Scope s = Scope.open()) {
            return s.keep(decodeTile(z));
        }
    }

    /** Tiled decoding regardless of the latent size (diffusers' tiled_decode). */
    public Tensor tiledDecode(Tensor z, Tiling t) {
        checkLatents(z);
        int latentTile = latentTile(t);
        int overlap = (int) (latentTile * (1 - t.overlapFactor()));
        int blendExtent = (int) (t.sampleSize() * t.overlapFactor());
        int rowLimit = t.sampleSize() - blendExtent;
        try (Scope s = Scope.open()) {
            return s.keep(tiled(z, latentTile, overlap, blendExtent, rowLimit, this::decodeTile));
        }
    }

    private Tensor moments(Tensor x) {
        Tensor h = encoder.forward(x);
        return quantConv != null ? quantConv.forward(h) : h;
    }

    private Tensor decodeTile(Tensor z) {
        return decoder.forward(postQuantConv != null ? postQuantConv.forward(z) : z);
    }

    private Tensor tiledMoments(Tensor x, Tiling t) {
        int latentTile = latentTile(t);
        int overlap = (int) (t.sampleSize() * (1 - t.overlapFactor()));
        int blendExtent = (int) (latentTile * t.overlapFactor());
        int rowLimit = latentTile - blendExtent;
        return tiled(x, t.sampleSize(), overlap, blendExtent, rowLimit, this::moments);
    }

    private int latentTile(Tiling t) {
        return (int) ((double) t.sampleSize() / config.scaleFactor());
    }

    /**
     * diffusers' tiling loop: tiles of {@code tile} input pixels every {@code stride}; each tile blends (in
     * place, in row-major order, so already-blended neighbours feed the next blend) its first
     * {@code blendExtent} rows with the tile above and columns with the tile to the left, then contributes
     * its top-left {@code rowLimit}² block to the output.
     */
    private static Tensor tiled(Tensor input, int tile, int stride, int blendExtent, int rowLimit,
                                UnaryOperator<Tensor> process) {
        if (stride <= 0) throw new IllegalArgumentException("tile of " + tile + " leaves no stride");
        int height = input.dim(2), width = input.dim(3);
        List<List<Tensor>> rows = new ArrayList<>();
        for (int i = 0; i < height; i += stride) {
            List<Tensor> row = new ArrayList<>();
            for (int j = 0; j < width; j += stride) {
                Tensor piece = input.slice(2, i, Math.min(i + tile, height)).slice(3, j, Math.min(j + tile, width));
                row.add(process.apply(piece));
            }
            rows.add(row);
        }
        List<Tensor> resultRows = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            List<Tensor> row = rows.get(i);
            List<Tensor> resultRow = new ArrayList<>();
            for (int j = 0; j < row.size(); j++) {
                Tensor t = row.get(j);
                if (i > 0) blend(rows.get(i - 1).get(j), t, blendExtent, 2);
                if (j > 0) blend(row.get(j - 1), t, blendExtent, 3);
                resultRow.add(t.slice(2, 0, Math.min(rowLimit, t.dim(2))).slice(3, 0, Math.min(rowLimit, t.dim(3))));
            }
            resultRows.add(concat(3, resultRow));
        }
        return concat(2, resultRows);
    }

    /**
     * b[..., k, ...] = a[..., len(a) − e + k, ...]·(1 − k/e) + b[..., k, ...]·(k/e) for k < e along {@code axis}
     * (diffusers' blend_v / blend_h; the weights are python floats rounded to float32, products then sum).
     */
    private static void blend(Tensor a, Tensor b, int blendExtent, int axis) {
        int e = Math.min(Math.min(a.dim(axis), b.dim(axis)), blendExtent);
        if (e <= 0) return;
        float[] keep = new float[e], take = new float[e];
        for (int k = 0; k < e; k++) {
            double w = (double) k / e;
            keep[k] = (float) (1 - w);
            take[k] = (float) w;
        }
        try (Scope s = Scope.open()) {
            int[] shape = {1, 1, 1, 1};
            shape[axis] = e;
            Tensor aEdge = a.narrow(axis, a.dim(axis) - e, e);
            Tensor bEdge = b.narrow(axis, 0, e);
            Tensor mixed = add(mul(aEdge, Tensor.of(keep, shape)), mul(bEdge, Tensor.of(take, shape)));
            bEdge.copyFrom(mixed);
        }
    }

    private static DiagonalGaussian posterior(Tensor moments) {
        int c = moments.dim(1) / 2;
        Tensor mean = moments.narrow(1, 0, c).contiguous();
        Tensor logvar = clamp(moments.narrow(1, c, c), -30f, 20f);
        return new DiagonalGaussian(mean, logvar);
    }

    private static DiagonalGaussian keep(Scope s, DiagonalGaussian g) {
        return new DiagonalGaussian(s.keep(g.mean()), s.keep(g.logvar()));
    }

    private void checkImage(Tensor x) {
        if (x.rank() != 4 || x.dim(1) != config.inChannels()) {
            throw new IllegalArgumentException("VAE input must be [N, " + config.inChannels() + ", H, W], got "
                    + Arrays.toString(x.shape()));
        }
    }

    private void checkLatents(Tensor z) {
        if (z.rank() != 4 || z.dim(1) != config.latentChannels()) {
            throw new IllegalArgumentException("VAE latents must be [N, " + config.latentChannels() + ", h, w], got "
                    + Arrays.toString(z.shape()));
        }
    }

    @Override
    public void close() {
        if (ownsWeights) weights.close();
    }
}
