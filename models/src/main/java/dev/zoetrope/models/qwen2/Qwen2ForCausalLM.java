package dev.zoetrope.models.qwen2;

import dev.zoetrope.core.CheckpointException;
import dev.zoetrope.core.Json;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.Weights;
import dev.zoetrope.models.llm.CausalLanguageModel;
import dev.zoetrope.models.llm.KvCache;
import dev.zoetrope.models.llm.WidenedWeights;
import dev.zoetrope.models.nn.Configs;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.zoetrope.core.Ops.add;
import static dev.zoetrope.core.Ops.attention;
import static dev.zoetrope.core.Ops.concat;
import static dev.zoetrope.core.Ops.embedding;
import static dev.zoetrope.core.Ops.linear;
import static dev.zoetrope.core.Ops.linearGroup;
import static dev.zoetrope.core.Ops.mul;
import static dev.zoetrope.core.Ops.rmsNorm;
import static dev.zoetrope.core.Ops.rope;
import static dev.zoetrope.core.Ops.silu;

/**
 * Qwen2ForCausalLM (transformers {@code models/qwen2/modeling_qwen2.py}): token embedding, decoder layers of
 * RMSNorm → grouped-query self-attention with q/k/v bias and NeoX rotary embedding → residual, RMSNorm →
 * SiLU-gated MLP → residual, a final RMSNorm and the LM head (tied to the embedding when
 * {@code tie_word_embeddings}). Weights are bound by their checkpoint names under {@code model.} /
 * {@code lm_head.} and used as stored (BF16/F16/F32, widened in the kernels).
 */
public final class Qwen2ForCausalLM implements CausalLanguageModel, AutoCloseable {
    private final Qwen2Config config;
    private final Tensor embedTokens;   // model.embed_tokens.weight (vocab, hidden)
    private final List<DecoderLayer> layers;
    private final Tensor norm;          // model.norm.weight (hidden), F32 copy
    private final Tensor lmHead;        // lm_head.weight (vocab, hidden), or embed_tokens when tied
    private final Weights owned;        // closed with the model when it opened the file itself
    private final WidenedWeights widened = new WidenedWeights();   // F32 norm scales and biases
    private volatile boolean groupedProjections = true;

    /** Binds the weights of {@code weights} (already prefixed, e.g. "language_model." in InternVL). */
    public Qwen2ForCausalLM(Qwen2Config config, Weights weights) {
        this(config, weights, null);
    }

    private Qwen2ForCausalLM(Qwen2Config config, Weights weights, Weights owned) {
        this.config = config;
        this.owned = owned;
        int v = config.vocabSize(), h = config.hiddenSize();
        this.embedTokens = weights.get("model.embed_tokens.weight", v, h);
        List<DecoderLayer> list = new ArrayList<>(config.numHiddenLayers());
        try {
            for (int i = 0; i < config.numHiddenLayers(); i++) {
                list.add(new DecoderLayer(config, weights, "model.layers." + i + ".", widened));
            }
            this.norm = widened.f32(weights.get("model.norm.weight", h), "model.norm.weight");
        } catch (RuntimeException e) {
            widened.close();
            throw e;
        }
        this.layers = List.copyOf(list);
        if (weights.has("lm_head.weight")) {
            this.lmHead = weights.get("lm_head.weight", v, h);
        } else if (config.tieWordEmbeddings()) {
            this.lmHead = embedTokens;
        } else {
            widened.close();
            throw new CheckpointException(weights.source() + ": missing tensor 'lm_head.weight' (tie_word_embeddings is false)");
        }
        String extra = "model.layers." + config.numHiddenLayers() + ".input_layernorm.weight";
        if (weights.has(extra)) {
            widened.close();
            throw new CheckpointException(weights.source() + ": has '" + extra + "' but num_hidden_layers is "
                    + config.numHiddenLayers() + " (config and weights disagree)");
        }
    }

    /**
     * A standalone Qwen2 checkpoint directory: {@code config.json} with architectures ["Qwen2ForCausalLM"] and
     * its safetensors (single file, sharded index or directory).
     */
    public static Qwen2ForCausalLM load(Path dir) {
        Path configFile = dir.resolve("config.json");
        Json.Obj json = Configs.read(configFile);
        List<String> arch = json.strings("architectures", List.of());
        if (!arch.contains(Qwen2Config.ARCHITECTURE) && !"qwen2".equals(json.string("model_type", null))) {
            throw new CheckpointException(configFile + ": not a Qwen2 checkpoint (architectures " + arch + ", model_type "
                    + json.string("model_type", null) + "); expected architectures [\"Qwen2ForCausalLM\"]");
        }
        Qwen2Config config = Qwen2Config.fromJson(json, configFile.toString());
        Weights weights = Weights.open(dir);
        try {
            return new Qwen2ForCausalLM(config, weights, weights);
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
    }

    public Qwen2Config config() {
        return config;
    }

    /**
     * Whether projections that share an input (q/k/v, gate/up) and every other weight read run as grouped
     * linears ({@link dev.zoetrope.core.Backend#linearGroup}: one streaming pass per group in a decode step) —
     * the default — or each as its own {@code linear}, as before grouping. Results agree to float rounding;
     * the switch exists so that {@code zoe bench llm} can measure both in one run.
     */
    public void setGroupedProjections(boolean grouped) {
        this.groupedProjections = grouped;
    }

    public boolean groupedProjections() {
        return groupedProjections;
    }

    @Override
    public int vocabSize() {
        return config.vocabSize();
    }

    @Override
    public int hiddenSize() {
        return config.hiddenSize();
    }

    @Override
    public Tensor embed(Tensor ids) {
        return embedding(embedTokens, ids);
    }

    @Override
    public KvCache newCache(int batch, int capacity) {
        return KvCache.allocate(batch, config.numHiddenLayers(), config.numKeyValueHeads(), config.headDim(), capacity);
    }

    @Override
    public Tensor forward(Tensor inputsEmbeds, KvCache cache, boolean[][] realTokens, long[][] positions,
                          LayerObserver observer) {
        if (inputsEmbeds.rank() != 3 || inputsEmbeds.dim(2) != config.hiddenSize() || inputsEmbeds.dim(0) != cache.batch()) {
            throw new IllegalArgumentException("Qwen2 forward: expected embeddings [" + cache.batch() + ", T, "
                    + config.hiddenSize() + "], got " + Arrays.toString(inputsEmbeds.shape()));
        }
        int b = inputsEmbeds.dim(0), t = inputsEmbeds.dim(1);
        long[][] pos = positions != null ? positions : defaultPositions(cache, realTokens, b, t);
        int start = cache.reserve(t, realTokens);
        Tensor mask = cache.keyMask(start + t);   // [B, 1, 1, L] or null
        Tensor x = inputsEmbeds;
        boolean grouped = groupedProjections;
        for (int i = 0; i < layers.size(); i++) {
            Tensor input = x;
            try (Scope layerScope = Scope.open()) {
                x = layers.get(i).forward(input, cache, i, start, pos, mask, grouped);
                if (observer != null) observer.afterLayer(i, x);
                layerScope.keep(x);
            }
            if (i > 0) input.close();   // the previous layer's output, owned here; the caller's embeddings stay
        }
        cache.commit(t);
        return rmsNorm(x, norm, (float) config.rmsNormEps());
    }

    /** transformers' position_ids = cumsum(attention_mask) − 1, with 1 at padding, continued from the cache. */
    private static long[][] defaultPositions(KvCache cache, boolean[][] realTokens, int b, int t) {
        long[][] pos = new long[b][t];
        for (int r = 0; r < b; r++) {
            long next = cache.nextPosition(r);
            for (int i = 0; i < t; i++) {
                boolean real = realTokens == null || realTokens[r][i];
                pos[r][i] = real ? next++ : 1;
            }
        }
        return pos;
    }

    @Override
    public Tensor logits(Tensor hidden) {
        return project(hidden, List.of(lmHead), null, groupedProjections).get(0);
    }

    /**
     * The projections of one input: grouped, one pass over every weight (outputs are views of one tensor
     * [..., Σ out]), or one linear each. Either way the result is one tensor per weight, in order.
     */
    static List<Tensor> project(Tensor x, List<Tensor> weights, List<Tensor> biases, boolean grouped) {
        List<Tensor> out = new ArrayList<>(weights.size());
        if (!grouped) {
            for (int i = 0; i < weights.size(); i++) out.add(linear(x, weights.get(i), biases == null ? null : biases.get(i)));
            return out;
        }
        Tensor all = linearGroup(x, weights, biases);
        int last = all.rank() - 1, start = 0;
        for (Tensor w : weights) {
            out.add(weights.size() == 1 ? all : all.narrow(last, start, w.dim(0)));
            start += w.dim(0);
        }
        return out;
    }

    /** Frees the model's F32 copies of its small weights, and the mapped checkpoint when this model opened it ({@link #load}). */
    @Override
    public void close() {
        widened.close();
        if (owned != null) owned.close();
    }

    /** One decoder layer: pre-norm attention and MLP blocks with residuals. */
    private static final class DecoderLayer {
        private final Tensor inputLayernorm;          // input_layernorm.weight (hidden), F32 copy
        private final Tensor postAttentionLayernorm;  // post_attention_layernorm.weight (hidden), F32 copy
        private final Attention selfAttn;
        private final Mlp mlp;
        private final float eps;

        DecoderLayer(Qwen2Config c, Weights w, String prefix, WidenedWeights widened) {
            this.inputLayernorm = widened.f32(w.get(prefix + "input_layernorm.weight", c.hiddenSize()), prefix + "input_layernorm.weight");
            this.postAttentionLayernorm = widened.f32(w.get(prefix + "post_attention_layernorm.weight", c.hiddenSize()),
                    prefix + "post_attention_layernorm.weight");
            this.selfAttn = new Attention(c, w, prefix + "self_attn.", widened);
            this.mlp = new Mlp(c, w, prefix + "mlp.");
            this.eps = (float) c.rmsNormEps();
        }

        Tensor forward(Tensor x, KvCache cache, int layer, int start, long[][] positions, Tensor mask, boolean grouped) {
            Tensor h = selfAttn.forward(rmsNorm(x, inputLayernorm, eps), cache, layer, start, positions, mask, grouped);
            x = add(x, h);
            return add(x, mlp.forward(rmsNorm(x, postAttentionLayernorm, eps), grouped));
        }
    }

    /** Grouped-query self-attention; q/k/v projections with bias, o_proj without. */
    private static final class Attention {
        private final Tensor qWeight, qBias;   // q_proj (heads·head_dim, hidden), (heads·head_dim) F32 copy
        private final Tensor kWeight, kBias;   // k_proj (kv_heads·head_dim, hidden), (kv_heads·head_dim) F32 copy
        private final Tensor vWeight, vBias;   // v_proj (kv_heads·head_dim, hidden), (kv_heads·head_dim) F32 copy
        private final Tensor oWeight;          // o_proj (hidden, heads·head_dim)
        private final List<Tensor> qkvWeights, qkvBiases;   // the three projections of the normed input
        private final int heads, kvHeads, headDim;
        private final double theta;

        Attention(Qwen2Config c, Weights w, String prefix, WidenedWeights widened) {
            heads = c.numAttentionHeads();
            kvHeads = c.numKeyValueHeads();
            headDim = c.headDim();
            theta = c.ropeTheta();
            int h = c.hiddenSize(), q = heads * headDim, kv = kvHeads * headDim;
            qWeight = w.get(prefix + "q_proj.weight", q, h);
            qBias = widened.f32(w.get(prefix + "q_proj.bias", q), prefix + "q_proj.bias");
            kWeight = w.get(prefix + "k_proj.weight", kv, h);
            kBias = widened.f32(w.get(prefix + "k_proj.bias", kv), prefix + "k_proj.bias");
            vWeight = w.get(prefix + "v_proj.weight", kv, h);
            vBias = widened.f32(w.get(prefix + "v_proj.bias", kv), prefix + "v_proj.bias");
            oWeight = w.get(prefix + "o_proj.weight", h, q);
            qkvWeights = List.of(qWeight, kWeight, vWeight);
            qkvBiases = List.of(qBias, kBias, vBias);
        }

        Tensor forward(Tensor x, KvCache cache, int layer, int start, long[][] positions, Tensor mask, boolean grouped) {
            int b = x.dim(0), t = x.dim(1);
            List<Tensor> qkv = project(x, qkvWeights, qkvBiases, grouped);   // [B, T, H·D], [B, T, Hk·D] ×2
            // [B, T, H·D] → [B, H, T, D]
            Tensor q = qkv.get(0).reshape(b, t, heads, headDim).transpose(1, 2);
            Tensor k = qkv.get(1).reshape(b, t, kvHeads, headDim).transpose(1, 2);
            Tensor v = qkv.get(2).reshape(b, t, kvHeads, headDim).transpose(1, 2);
            q = rotary(q, positions);
            k = rotary(k, positions);
            cache.write(layer, start, k, v);
            int end = start + t;
            // causal: query i (absolute start + i) sees keys ≤ start + i; padding keys masked additively
            Tensor o = attention(q, cache.keys(layer, end), cache.values(layer, end), mask, true,
                    (float) (1.0 / Math.sqrt(headDim)));           // [B, H, T, D]
            return project(o.transpose(1, 2).reshape(b, t, heads * headDim), List.of(oWeight), null, grouped).get(0);
        }

        /** NeoX rotary embedding; one call when every row has the same positions, else row by row. */
        private Tensor rotary(Tensor x, long[][] positions) {
            boolean same = true;
            for (long[] row : positions) same &= Arrays.equals(row, positions[0]);
            if (same) return rope(x, positions[0], theta);
            List<Tensor> rows = new ArrayList<>(positions.length);
            for (int r = 0; r < positions.length; r++) rows.add(rope(x.narrow(0, r, 1), positions[r], theta));
            return concat(0, rows);
        }
    }

    /** down_proj(silu(gate_proj(x)) · up_proj(x)), no biases. */
    private static final class Mlp {
        private final Tensor gateWeight;  // gate_proj (intermediate, hidden)
        private final Tensor upWeight;    // up_proj (intermediate, hidden)
        private final Tensor downWeight;  // down_proj (hidden, intermediate)

        Mlp(Qwen2Config c, Weights w, String prefix) {
            gateWeight = w.get(prefix + "gate_proj.weight", c.intermediateSize(), c.hiddenSize());
            upWeight = w.get(prefix + "up_proj.weight", c.intermediateSize(), c.hiddenSize());
            downWeight = w.get(prefix + "down_proj.weight", c.hiddenSize(), c.intermediateSize());
        }

        Tensor forward(Tensor x, boolean grouped) {
            List<Tensor> gateUp = project(x, List.of(gateWeight, upWeight), null, grouped);   // [B, T, I] ×2
            return project(mul(silu(gateUp.get(0)), gateUp.get(1)), List.of(downWeight), null, grouped).get(0);
        }
    }
}
