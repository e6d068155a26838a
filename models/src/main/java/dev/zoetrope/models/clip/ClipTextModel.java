package dev.zoetrope.models.clip;

import dev.zoetrope.core.CheckpointException;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.Weights;
import dev.zoetrope.models.nn.Configs;
import dev.zoetrope.models.nn.LayerNorm;
import dev.zoetrope.models.nn.Linear;
import dev.zoetrope.models.nn.Params;

import java.nio.file.Path;
import java.util.Arrays;

import static dev.zoetrope.core.Ops.add;
import static dev.zoetrope.core.Ops.concat;
import static dev.zoetrope.core.Ops.embedding;

/**
 * transformers {@code CLIPTextModel} (and {@code CLIPTextModelWithProjection} when the checkpoint has
 * {@code text_projection.weight}): token + position embeddings → causal pre-norm encoder → final_layer_norm.
 * Weight names are accepted with the {@code text_model.} prefix (most published checkpoints) and without it
 * (transformers 5 saves CLIPTextModel flattened).
 */
public final class ClipTextModel implements AutoCloseable {
    private final ClipTextConfig config;
    private final Weights weights;
    private final boolean ownsWeights;
    private final Tensor tokenEmbedding;      // [vocab, D]
    private final Tensor positionEmbedding;   // [max_positions, D]
    private final ClipEncoder encoder;
    private final LayerNorm finalLayerNorm;
    private final Linear textProjection;      // [projection_dim, D], no bias; null for CLIPTextModel

    private ClipTextModel(ClipTextConfig c, Weights weights, boolean ownsWeights) {
        this.config = c;
        this.weights = weights;
        this.ownsWeights = ownsWeights;
        Params root = Params.of(weights);
        Params p;
        if (root.has("text_model.embeddings.token_embedding.weight")) {
            p = root.child("text_model");
        } else if (root.has("embeddings.token_embedding.weight")) {
            p = root;
        } else {
            throw new CheckpointException(weights.source() + ": no CLIP text encoder here (neither "
                    + "'text_model.embeddings.token_embedding.weight' nor 'embeddings.token_embedding.weight')");
        }
        int d = c.hiddenSize();
        tokenEmbedding = p.get("embeddings.token_embedding.weight", c.vocabSize(), d);
        positionEmbedding = p.get("embeddings.position_embedding.weight", c.maxPositionEmbeddings(), d);
        encoder = new ClipEncoder(p.child("encoder"), c.numHiddenLayers(), d, c.intermediateSize(),
                c.numAttentionHeads(), c.hiddenAct(), c.layerNormEps());
        finalLayerNorm = LayerNorm.load(p.child("final_layer_norm"), d, c.layerNormEps());
        textProjection = root.has("text_projection.weight")
                ? Linear.load(root.child("text_projection"), d, c.projectionDim(), false) : null;
    }

    /** Loads a {@code text_encoder/} folder (config.json + model.safetensors). */
    public static ClipTextModel load(Path dir) {
        ClipTextConfig config = ClipTextConfig.load(dir.resolve("config.json"));
        Weights weights = Configs.openWeights(dir, "model");
        try {
            return new ClipTextModel(config, weights, true);
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
    }

    /** A model over weights the caller owns (closing the model leaves them open). */
    public static ClipTextModel of(ClipTextConfig config, Weights weights) {
        return new ClipTextModel(config, weights, false);
    }

    public ClipTextConfig config() {
        return config;
    }

    public boolean hasProjection() {
        return textProjection != null;
    }

    /** ids[B, L] (integer) → last_hidden_state [B, L, D] (after final_layer_norm). */
    public Tensor lastHiddenState(Tensor inputIds) {
        return encode(inputIds, 0);
    }

    /**
     * The prompt embedding as diffusers' encode_prompt computes it with {@code clip_skip}:
     * {@code final_layer_norm(hidden_states[-(clipSkip + 1)])}, i.e. the output of layer N − clipSkip. clipSkip 0
     * is last_hidden_state; I2VGen-XL and SD 2.x-style "penultimate layer" use 1.
     */
    public Tensor encode(Tensor inputIds, int clipSkip) {
        int layers = config.numHiddenLayers();
        if (clipSkip < 0 || clipSkip > layers) {
            throw new IllegalArgumentException("clip_skip " + clipSkip + " out of range for " + layers + " layers");
        }
        try (Scope s = Scope.open()) {
            Tensor h = encoder.forward(embed(inputIds), layers - clipSkip, true);
            return s.keep(finalLayerNorm.forward(h));
        }
    }

    /**
     * The pooled output: last_hidden_state at the end-of-text token of each row (the first eos_token_id, or the
     * highest id for legacy configs with eos_token_id 2, as transformers does) → [B, D].
     */
    public Tensor pooledOutput(Tensor lastHiddenState, Tensor inputIds) {
        long[] ids = inputIds.toLongArray();
        int b = inputIds.dim(0), len = inputIds.dim(1);
        Tensor[] rows = new Tensor[b];
        for (int i = 0; i < b; i++) {
            int pos = 0;
            if (config.eosTokenId() == 2) {
                for (int j = 1; j < len; j++) if (ids[i * len + j] > ids[i * len + pos]) pos = j;
            } else {
                for (int j = 0; j < len; j++) {
                    if (ids[i * len + j] == config.eosTokenId()) {
                        pos = j;
                        break;
                    }
                }
            }
            rows[i] = lastHiddenState.select(0, i).narrow(0, pos, 1);                // [1, D]
        }
        return concat(0, rows);
    }

    /** CLIPTextModelWithProjection's text_embeds: text_projection(pooled output) → [B, projection_dim]. */
    public Tensor textEmbeds(Tensor inputIds) {
        if (textProjection == null) {
            throw new IllegalStateException(weights.source() + ": no text_projection.weight (a CLIPTextModel, not "
                    + "CLIPTextModelWithProjection)");
        }
        try (Scope s = Scope.open()) {
            return s.keep(textProjection.forward(pooledOutput(lastHiddenState(inputIds), inputIds)));
        }
    }

    /** ids[B, L] → token + position embeddings [B, L, D] */
    private Tensor embed(Tensor inputIds) {
        if (inputIds.rank() != 2 || inputIds.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("CLIP input_ids must be an integer tensor [B, L], got "
                    + inputIds.dtype() + " " + Arrays.toString(inputIds.shape()));
        }
        int len = inputIds.dim(1);
        if (len > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("sequence of " + len + " tokens is longer than max_position_embeddings "
                    + config.maxPositionEmbeddings());
        }
        return add(embedding(tokenEmbedding, inputIds), positionEmbedding.narrow(0, 0, len));
    }

    @Override
    public void close() {
        if (ownsWeights) weights.close();
    }
}
