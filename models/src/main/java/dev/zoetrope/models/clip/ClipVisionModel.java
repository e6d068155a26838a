package dev.zoetrope.models.clip;

import dev.zoetrope.core.CheckpointException;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.Weights;
import dev.zoetrope.models.nn.Conv2d;
import dev.zoetrope.models.nn.Configs;
import dev.zoetrope.models.nn.LayerNorm;
import dev.zoetrope.models.nn.Linear;
import dev.zoetrope.models.nn.Params;

import java.nio.file.Path;
import java.util.Arrays;

import static dev.zoetrope.core.Ops.add;
import static dev.zoetrope.core.Ops.concat;

/**
 * transformers {@code CLIPVisionModel} / {@code CLIPVisionModelWithProjection} (I2VGen-XL's image encoder):
 * patch conv (no bias) + class token + position embeddings → pre_layrnorm → encoder; pooled output =
 * post_layernorm(last_hidden_state[:, 0]); image_embeds = visual_projection(pooled).
 * Weights: vision_model.{embeddings, pre_layrnorm, encoder, post_layernorm}, visual_projection.
 */
public final class ClipVisionModel implements AutoCloseable {
    /**
     * @param lastHiddenState [B, 1 + patches, D] (before post_layernorm, as transformers returns it)
     * @param pooledOutput    [B, D]
     * @param imageEmbeds     [B, projection_dim], null without visual_projection
     */
    public record Output(Tensor lastHiddenState, Tensor pooledOutput, Tensor imageEmbeds) {
    }

    private final ClipVisionConfig config;
    private final Weights weights;
    private final boolean ownsWeights;
    private final Tensor classEmbedding;      // [D]
    private final Conv2d patchEmbedding;      // [D, C, patch, patch], stride patch
    private final Tensor positionEmbedding;   // [1 + patches, D]
    private final LayerNorm preLayerNorm;
    private final ClipEncoder encoder;
    private final LayerNorm postLayerNorm;
    private final Linear visualProjection;    // [projection_dim, D], no bias; may be null

    private ClipVisionModel(ClipVisionConfig c, Weights weights, boolean ownsWeights) {
        this.config = c;
        this.weights = weights;
        this.ownsWeights = ownsWeights;
        Params root = Params.of(weights);
        if (!root.has("vision_model.embeddings.class_embedding")) {
            throw new CheckpointException(weights.source() + ": no CLIP vision tower here (missing "
                    + "'vision_model.embeddings.class_embedding')");
        }
        Params p = root.child("vision_model");
        int d = c.hiddenSize();
        classEmbedding = p.get("embeddings.class_embedding", d);
        patchEmbedding = new Conv2d(p.get("embeddings.patch_embedding.weight", d, c.numChannels(), c.patchSize(),
                c.patchSize()), null, c.patchSize(), 0);
        positionEmbedding = p.get("embeddings.position_embedding.weight", c.numPatches() + 1, d);
        preLayerNorm = LayerNorm.load(p.child("pre_layrnorm"), d, c.layerNormEps());
        encoder = new ClipEncoder(p.child("encoder"), c.numHiddenLayers(), d, c.intermediateSize(),
                c.numAttentionHeads(), c.hiddenAct(), c.layerNormEps());
        postLayerNorm = LayerNorm.load(p.child("post_layernorm"), d, c.layerNormEps());
        visualProjection = root.has("visual_projection.weight")
                ? Linear.load(root.child("visual_projection"), d, c.projectionDim(), false) : null;
    }

    /** Loads an {@code image_encoder/} folder (config.json + model.safetensors). */
    public static ClipVisionModel load(Path dir) {
        ClipVisionConfig config = ClipVisionConfig.load(dir.resolve("config.json"));
        Weights weights = Configs.openWeights(dir, "model");
        try {
            return new ClipVisionModel(config, weights, true);
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
    }

    public static ClipVisionModel of(ClipVisionConfig config, Weights weights) {
        return new ClipVisionModel(config, weights, false);
    }

    public ClipVisionConfig config() {
        return config;
    }

    /** pixelValues[B, C, image_size, image_size] (already normalised with the CLIP mean/std) */
    public Output forward(Tensor pixelValues) {
        int size = config.imageSize();
        if (pixelValues.rank() != 4 || pixelValues.dim(1) != config.numChannels() || pixelValues.dim(2) != size
                || pixelValues.dim(3) != size) {
            throw new IllegalArgumentException("CLIP vision input must be [B, " + config.numChannels() + ", " + size + ", "
                    + size + "], got " + Arrays.toString(pixelValues.shape()));
        }
        try (Scope s = Scope.open()) {
            int b = pixelValues.dim(0), d = config.hiddenSize();
            Tensor patches = patchEmbedding.forward(pixelValues);                      // [B, D, g, g]
            patches = patches.reshape(b, d, -1).transpose(1, 2);                       // [B, g², D]
            Tensor cls = classEmbedding.reshape(1, 1, d).expand(b, 1, d);
            Tensor h = add(concat(1, cls, patches), positionEmbedding);                // [B, 1 + g², D]
            h = encoder.forward(preLayerNorm.forward(h), encoder.size(), false);
            Tensor pooled = postLayerNorm.forward(h.select(1, 0));                     // [B, D]
            Tensor embeds = visualProjection != null ? visualProjection.forward(pooled) : null;
            return new Output(s.keep(h), s.keep(pooled), embeds == null ? null : s.keep(embeds));
        }
    }

    @Override
    public void close() {
        if (ownsWeights) weights.close();
    }
}
