package dev.zoetrope.models.internvl;

import dev.zoetrope.core.CheckpointException;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.Weights;
import dev.zoetrope.models.llm.GenerationConfig;
import dev.zoetrope.models.llm.Generator;
import dev.zoetrope.models.llm.KvCache;
import dev.zoetrope.models.qwen2.Qwen2ForCausalLM;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.zoetrope.core.Ops.concat;
import static dev.zoetrope.core.Ops.gelu;
import static dev.zoetrope.core.Ops.layerNorm;
import static dev.zoetrope.core.Ops.linear;

/**
 * InternVLChatModel ({@code modeling_internvl_chat.py}) in the original OpenGVLab InternVL2 layout: InternViT
 * ({@code vision_model.}), the pixel shuffle that folds each 2×2 patch block into one token, the projector
 * {@code mlp1} (LayerNorm → Linear → GELU → Linear) and the language model ({@code language_model.}). Image
 * features replace the {@code <IMG_CONTEXT>} token embeddings, in order, before generation. Prompt building
 * and tokenisation live in {@link InternVLChat}.
 */
public final class InternVLChatModel implements AutoCloseable {
    public static final String IMG_START_TOKEN = "<img>";
    public static final String IMG_END_TOKEN = "</img>";
    public static final String IMG_CONTEXT_TOKEN = "<IMG_CONTEXT>";

    /** Tiles run through the vision model together (bounds activation memory; results do not depend on it). */
    private static final int VISION_TILES_PER_PASS = 8;
    private static final float MLP1_NORM_EPS = 1e-5f;   // nn.LayerNorm's default

    private final Path directory;
    private final InternVLChatConfig config;
    private final Weights weights;
    private final InternVisionModel visionModel;
    private final Qwen2ForCausalLM languageModel;
    private final Tensor mlp1NormWeight, mlp1NormBias;   // mlp1.0 LayerNorm (C·r²)
    private final Tensor mlp1InWeight, mlp1InBias;       // mlp1.1 Linear (llm_hidden, C·r²), (llm_hidden)
    private final Tensor mlp1OutWeight, mlp1OutBias;     // mlp1.3 Linear (llm_hidden, llm_hidden), (llm_hidden)

    public InternVLChatModel(Path directory, InternVLChatConfig config, Weights weights) {
        this.directory = directory;
        this.config = config;
        this.weights = weights;
        checkLayout(weights);
        this.visionModel = new InternVisionModel(config.visionConfig(), weights.prefixed("vision_model."));
        int r = config.shuffleFactor();
        int in = config.visionConfig().hiddenSize() * r * r, out = config.llmConfig().hiddenSize();
        this.mlp1NormWeight = weights.get("mlp1.0.weight", in);
        this.mlp1NormBias = weights.get("mlp1.0.bias", in);
        this.mlp1InWeight = weights.get("mlp1.1.weight", out, in);
        this.mlp1InBias = weights.get("mlp1.1.bias", out);
        this.mlp1OutWeight = weights.get("mlp1.3.weight", out, out);
        this.mlp1OutBias = weights.get("mlp1.3.bias", out);
        this.languageModel = new Qwen2ForCausalLM(config.llmConfig(), weights.prefixed("language_model."));   // last: owns memory
    }

    /** Loads {@code dir}: config.json plus model.safetensors (or its sharded index, or the only safetensors file). */
    public static InternVLChatModel load(Path dir) {
        return load(dir, defaultWeights(dir));
    }

    /** Loads {@code dir}'s config with the weights of {@code weightsPath} (a safetensors file or index). */
    public static InternVLChatModel load(Path dir, Path weightsPath) {
        InternVLChatConfig config = InternVLChatConfig.read(dir);
        Weights weights = Weights.open(weightsPath);
        try {
            return new InternVLChatModel(dir, config, weights);
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
    }

    private static Path defaultWeights(Path dir) {
        for (String name : new String[] {"model.safetensors.index.json", "model.safetensors"}) {
            if (Files.isRegularFile(dir.resolve(name))) return dir.resolve(name);
        }
        return dir;   // Weights.open explains what it finds (none, several)
    }

    /** The original layout names its parts vision_model. / mlp1. / language_model.; say so when they are absent. */
    private static void checkLayout(Weights w) {
        boolean original = w.has("vision_model.embeddings.patch_embedding.weight") && w.has("mlp1.0.weight")
                && w.has("language_model.model.embed_tokens.weight");
        if (original) return;
        boolean nativeLayout = w.names().stream().anyMatch(n -> n.startsWith("model.vision_tower.") || n.startsWith("vision_tower.")
                || n.startsWith("model.multi_modal_projector.") || n.startsWith("multi_modal_projector."));
        throw new CheckpointException(w.source() + (nativeLayout
                ? ": weights are in the transformers-native InternVL layout (vision_tower / multi_modal_projector);"
                  + " expected the original OpenGVLab names (vision_model., mlp1., language_model.)"
                : ": not InternVL2 weights: expected tensors vision_model.embeddings.patch_embedding.weight, mlp1.0.weight"
                  + " and language_model.model.embed_tokens.weight"));
    }

    public Path directory() {
        return directory;
    }

    public InternVLChatConfig config() {
        return config;
    }

    public InternVisionModel visionModel() {
        return visionModel;
    }

    public Qwen2ForCausalLM languageModel() {
        return languageModel;
    }

    public int numImageToken() {
        return config.numImageToken();
    }

    /**
     * pixel_shuffle of the reference on x [n, w, h, c] with scale s: [n, h·s, w·s, c/s²] (v2) — output token
     * (i, j) concatenates patches (2i, 2j), (2i, 2j+1), (2i+1, 2j), (2i+1, 2j+1) for s = ½. "v1" leaves the
     * result transposed, as the original did.
     */
    public static Tensor pixelShuffle(Tensor x, double scale, String psVersion) {
        if (x.rank() != 4) throw new IllegalArgumentException("pixel_shuffle: expected x[n, w, h, c], got " + Arrays.toString(x.shape()));
        int n = x.dim(0), w = x.dim(1), h = x.dim(2), c = x.dim(3);
        int hs = exact(h * scale, "h·scale"), ws = exact(w * scale, "w·scale");
        int cs = exact(c / scale, "c/scale"), css = exact(c / (scale * scale), "c/scale²");
        Tensor y = x.reshape(n, w, hs, cs)            // [n, w, h·s, c/s]
                .permute(0, 2, 1, 3)                  // [n, h·s, w, c/s]
                .reshape(n, hs, ws, css);             // [n, h·s, w·s, c/s²]
        return psVersion.equals("v1") ? y : y.permute(0, 2, 1, 3);
    }

    private static int exact(double v, String what) {
        int i = (int) v;
        if (i != v || i <= 0) throw new IllegalArgumentException("pixel_shuffle: " + what + " = " + v + " is not a positive integer");
        return i;
    }

    /** The vision hidden state extract_feature uses (select_layer): [N, 1 + P, C]. */
    public Tensor visionHiddenState(Tensor pixelValues) {
        return visionModel.hiddenState(pixelValues, config.selectLayer());
    }

    /** Vision hidden state [N, 1 + P, C] → pixel-shuffled patch tokens, the mlp1 input [N, tokens, C·r²]. */
    public Tensor shuffleVisionTokens(Tensor hidden) {
        int n = hidden.dim(0), p = hidden.dim(1) - 1, c = hidden.dim(2);
        int side = (int) Math.round(Math.sqrt(p));
        if (side * side != p) throw new IllegalArgumentException("vision grid of " + p + " patches is not square");
        Tensor grid = hidden.narrow(1, 1, p).reshape(n, side, side, c);            // CLS dropped
        Tensor shuffled = pixelShuffle(grid, config.downsampleRatio(), config.psVersion());
        return shuffled.reshape(n, -1, shuffled.dim(3));
    }

    /** mlp1: x [..., C·r²] → [..., llm_hidden]. */
    public Tensor projector(Tensor x) {
        Tensor y = layerNorm(x, mlp1NormWeight, mlp1NormBias, MLP1_NORM_EPS);
        return linear(gelu(linear(y, mlp1InWeight, mlp1InBias)), mlp1OutWeight, mlp1OutBias);
    }

    /** extract_feature: pixel_values [N, 3, S, S] → image features [N, num_image_token, llm_hidden]. */
    public Tensor extractFeature(Tensor pixelValues) {
        int tiles = pixelValues.dim(0);
        List<Tensor> parts = new ArrayList<>();
        for (int start = 0; start < tiles; start += VISION_TILES_PER_PASS) {
            int count = Math.min(VISION_TILES_PER_PASS, tiles - start);
            try (Scope pass = Scope.open()) {
                parts.add(pass.keep(projector(shuffleVisionTokens(visionHiddenState(pixelValues.narrow(0, start, count))))));
            }
        }
        return parts.size() == 1 ? parts.get(0) : concat(0, parts);
    }

    /**
     * Token embeddings [B, T, hidden] with every {@code <IMG_CONTEXT>} position (row-major over the batch)
     * replaced by the next row of {@code features} [N, tokens, hidden] starting at row {@code firstFeatureRow};
     * every remaining feature row must be used.
     */
    public Tensor inputEmbeddings(long[][] ids, Tensor features, int firstFeatureRow, int imgContextTokenId) {
        int b = ids.length, t = ids[0].length, hidden = config.llmConfig().hiddenSize();
        long[] flat = new long[b * t];
        int contexts = 0;
        for (int r = 0; r < b; r++) {
            if (ids[r].length != t) throw new IllegalArgumentException("rows of different lengths: pad the batch first");
            System.arraycopy(ids[r], 0, flat, r * t, t);
            for (long id : ids[r]) if (id == imgContextTokenId) contexts++;
        }
        Tensor embeds = languageModel.embed(Tensor.ofLongs(flat, b, t));          // [B, T, hidden]
        int available = features == null ? 0 : features.dim(0) * features.dim(1) - firstFeatureRow;
        if (contexts != available) {
            throw new IllegalArgumentException("the prompt has " + contexts + " " + IMG_CONTEXT_TOKEN + " tokens but the images give "
                    + available + " feature rows" + (features == null ? "" : " (" + features.dim(0) + " tiles × "
                    + features.dim(1) + (firstFeatureRow > 0 ? ", " + firstFeatureRow + " already used" : "") + ")")
                    + ": each <image> placeholder must match one entry of num_patches_list");
        }
        if (contexts == 0) return embeds;
        if (features.dim(2) != hidden) {
            throw new IllegalArgumentException("image features have width " + features.dim(2) + ", the language model " + hidden);
        }
        Tensor rowsOfFeatures = features.reshape(-1, hidden);                       // [N·tokens, hidden]
        int next = firstFeatureRow;
        List<Tensor> rows = new ArrayList<>(b);
        for (int r = 0; r < b; r++) {
            Tensor row = embeds.select(0, r);                                        // [T, hidden]
            List<Tensor> pieces = new ArrayList<>();
            int i = 0;
            while (i < t) {
                boolean image = ids[r][i] == imgContextTokenId;
                int j = i;
                while (j < t && (ids[r][j] == imgContextTokenId) == image) j++;
                if (image) {
                    pieces.add(rowsOfFeatures.narrow(0, next, j - i));
                    next += j - i;
                } else {
                    pieces.add(row.narrow(0, i, j - i));
                }
                i = j;
            }
            rows.add((pieces.size() == 1 ? pieces.get(0) : concat(0, pieces)).unsqueeze(0));
        }
        return rows.size() == 1 ? rows.get(0).contiguous() : concat(0, rows);
    }

    /**
     * generate(): embeddings with the image features merged, then decoding with a fresh KV cache.
     *
     * @param ids        [B][T] prompt ids, left-padded in a batch
     * @param realTokens [B][T] false at padding, or null
     * @param features   extract_feature output for every <IMG_CONTEXT> in ids, or null without images
     */
    public Generator.Result generate(long[][] ids, boolean[][] realTokens, Tensor features, int imgContextTokenId,
                                     GenerationConfig generation, Generator.TokenStreamer streamer,
                                     Generator.LogitsObserver logitsObserver) {
        try (KvCache cache = languageModel.newCache(ids.length, ids[0].length + generation.maxNewTokens());
             Scope scope = Scope.open()) {
            Tensor embeds = inputEmbeddings(ids, features, 0, imgContextTokenId);
            return Generator.generate(languageModel, cache, embeds, realTokens, null, generation, streamer, logitsObserver);
        }
    }

    /** Releases the language model's own copies and the mapped checkpoint. */
    @Override
    public void close() {
        try {
            languageModel.close();
        } finally {
            weights.close();
        }
    }
}
