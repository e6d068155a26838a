package dev.zoetrope.models.internvl;

import dev.zoetrope.core.Backend.Interpolation;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.Weights;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.zoetrope.core.Ops.add;
import static dev.zoetrope.core.Ops.attention;
import static dev.zoetrope.core.Ops.concat;
import static dev.zoetrope.core.Ops.interpolate;
import static dev.zoetrope.core.Ops.layerNorm;
import static dev.zoetrope.core.Ops.linear;
import static dev.zoetrope.core.Ops.mul;
import static dev.zoetrope.core.Ops.rmsNorm;

/**
 * InternViT ({@code modeling_intern_vit.py}, InternVisionModel): a patch convolution plus a CLS token and a
 * learned position embedding (bicubically resized when the patch grid differs from the trained one), then
 * pre-norm encoder layers {@code x += ls1·attn(norm1(x)); x += ls2·mlp(norm2(x))} with a fused qkv
 * projection, optional RMS q/k normalisation, and no final norm. Weight names as in the checkpoint under
 * {@code vision_model.}.
 */
public final class InternVisionModel {
    private final InternVisionConfig config;
    private final Tensor classEmbedding;      // embeddings.class_embedding (1, 1, C)
    private final Tensor patchWeight;         // embeddings.patch_embedding.weight (C, 3, p, p)
    private final Tensor patchBias;           // embeddings.patch_embedding.bias (C)
    private final Tensor positionEmbedding;   // embeddings.position_embedding (1, 1 + G², C)
    private final List<EncoderLayer> layers;

    public InternVisionModel(InternVisionConfig config, Weights weights) {
        this.config = config;
        int c = config.hiddenSize(), p = config.patchSize(), g = config.gridSize();
        this.classEmbedding = weights.get("embeddings.class_embedding", 1, 1, c);
        this.patchWeight = weights.get("embeddings.patch_embedding.weight", c, config.numChannels(), p, p);
        this.patchBias = weights.get("embeddings.patch_embedding.bias", c);
        this.positionEmbedding = weights.get("embeddings.position_embedding", 1, 1 + g * g, c);
        List<EncoderLayer> list = new ArrayList<>();
        for (int i = 0; i < config.numHiddenLayers(); i++) list.add(new EncoderLayer(config, weights, "encoder.layers." + i + "."));
        this.layers = List.copyOf(list);
    }

    public InternVisionConfig config() {
        return config;
    }

    /** pixel_values [N, 3, H, W] → CLS + patch embeddings with positions [N, 1 + (H/p)·(W/p), C]. */
    public Tensor embeddings(Tensor pixelValues) {
        if (pixelValues.rank() != 4 || pixelValues.dim(1) != config.numChannels()
                || pixelValues.dim(2) % config.patchSize() != 0 || pixelValues.dim(3) % config.patchSize() != 0) {
            throw new IllegalArgumentException("InternViT: expected pixel_values [N, " + config.numChannels()
                    + ", H, W] with H and W multiples of " + config.patchSize() + ", got " + Arrays.toString(pixelValues.shape()));
        }
        int n = pixelValues.dim(0), c = config.hiddenSize(), p = config.patchSize(), ch = config.numChannels();
        int h = pixelValues.dim(2) / p, w = pixelValues.dim(3) / p;
        // Conv2d(kernel = stride = p) is a linear map of each non-overlapping patch: unfold the patches in the
        // weight's (channel, ky, kx) order and apply the flattened kernel as a Linear.
        Tensor unfolded = pixelValues.reshape(n, ch, h, p, w, p).permute(0, 2, 4, 1, 3, 5)
                .reshape(n, h * w, ch * p * p);                                                 // [N, h·w, 3·p·p]
        Tensor patches = linear(unfolded, patchWeight.reshape(c, ch * p * p), patchBias);       // [N, h·w, C]
        Tensor x = concat(1, classEmbedding.expand(n, 1, c), patches);                          // [N, 1 + h·w, C]
        Tensor positions = concat(1, positionEmbedding.narrow(1, 0, 1), gridPositions(h, w)); // [1, 1 + h·w, C]
        return add(x, positions);
    }

    /** The patch part of the position embedding for an h×w grid: [1, h·w, C], bicubic (a = −0.75) if resized. */
    private Tensor gridPositions(int h, int w) {
        int g = config.gridSize(), c = config.hiddenSize();
        Tensor grid = positionEmbedding.narrow(1, 1, g * g);                                    // [1, G², C]
        if (h == g && w == g) return grid;   // torch's bicubic resize to the same size is the identity
        Tensor image = grid.reshape(1, g, g, c).permute(0, 3, 1, 2);                            // [1, C, G, G]
        Tensor resized = interpolate(image, h, w, Interpolation.BICUBIC, false);                // [1, C, h, w]
        return resized.reshape(1, c, h * w).transpose(1, 2);                                    // [1, h·w, C]
    }

    /** last_hidden_state [N, 1 + P, C] (no final norm). */
    public Tensor forward(Tensor pixelValues) {
        return hiddenState(pixelValues, -1);
    }

    /**
     * {@code hidden_states[index]} of the reference (index 0 = embeddings, i = output of layer i − 1, negative
     * counts from the end as in Python), running only the layers needed. {@code observer} (may be null) sees
     * every entry up to that index.
     */
    public Tensor hiddenState(Tensor pixelValues, int index, HiddenStateObserver observer) {
        int count = layers.size() + 1;
        int target = index < 0 ? count + index : index;
        if (target < 0 || target >= count) {
            throw new IllegalArgumentException("vision hidden state " + index + " out of range for " + layers.size() + " layers");
        }
        Tensor x = embeddings(pixelValues);
        if (observer != null) observer.hiddenState(0, x);
        for (int i = 0; i < target; i++) {
            Tensor input = x;
            try (Scope layerScope = Scope.open()) {
                x = layerScope.keep(layers.get(i).forward(input));
            }
            if (observer != null) observer.hiddenState(i + 1, x);
            input.close();
        }
        return x;
    }

    public Tensor hiddenState(Tensor pixelValues, int index) {
        return hiddenState(pixelValues, index, null);
    }

    /** Sees hidden_states[i] while it exists (copy what you keep). */
    @FunctionalInterface
    public interface HiddenStateObserver {
        void hiddenState(int index, Tensor hidden);
    }

    /** LayerNorm (weight + bias) or RMSNorm (weight), by norm_type. */
    private record Norm(Tensor weight, Tensor bias, float eps) {
        static Norm load(InternVisionConfig c, Weights w, String prefix) {
            Tensor weight = w.get(prefix + "weight", c.hiddenSize());
            Tensor bias = c.normType().equals("layer_norm") ? w.get(prefix + "bias", c.hiddenSize()) : null;
            return new Norm(weight, bias, (float) c.layerNormEps());
        }

        Tensor apply(Tensor x) {
            return bias != null ? layerNorm(x, weight, bias, eps) : rmsNorm(x, weight, eps);
        }
    }

    private static final class EncoderLayer {
        private final InternVisionConfig config;
        private final Norm norm1, norm2;
        private final Tensor ls1, ls2;                 // layer scales (C)
        private final Tensor qkvWeight, qkvBias;       // attn.qkv (3C, C), (3C) or absent — rows [q; k; v]
        private final Tensor qNorm, kNorm;             // attn.q_norm / k_norm weights (C) when qk_normalization
        private final Tensor projWeight, projBias;     // attn.proj (C, C), (C)
        private final Tensor fc1Weight, fc1Bias;       // mlp.fc1 (I, C), (I)
        private final Tensor fc2Weight, fc2Bias;       // mlp.fc2 (C, I), (C)

        EncoderLayer(InternVisionConfig c, Weights w, String prefix) {
            this.config = c;
            int h = c.hiddenSize(), inter = c.intermediateSize();
            norm1 = Norm.load(c, w, prefix + "norm1.");
            norm2 = Norm.load(c, w, prefix + "norm2.");
            ls1 = w.get(prefix + "ls1", h);
            ls2 = w.get(prefix + "ls2", h);
            qkvWeight = w.get(prefix + "attn.qkv.weight", 3 * h, h);
            qkvBias = c.qkvBias() ? w.get(prefix + "attn.qkv.bias", 3 * h) : null;
            qNorm = c.qkNormalization() ? w.get(prefix + "attn.q_norm.weight", h) : null;
            kNorm = c.qkNormalization() ? w.get(prefix + "attn.k_norm.weight", h) : null;
            projWeight = w.get(prefix + "attn.proj.weight", h, h);
            projBias = w.get(prefix + "attn.proj.bias", h);
            fc1Weight = w.get(prefix + "mlp.fc1.weight", inter, h);
            fc1Bias = w.get(prefix + "mlp.fc1.bias", inter);
            fc2Weight = w.get(prefix + "mlp.fc2.weight", h, inter);
            fc2Bias = w.get(prefix + "mlp.fc2.bias", h);
        }

        Tensor forward(Tensor x) {
            x = add(x, mul(selfAttention(norm1.apply(x)), ls1));
            return add(x, mul(mlp(norm2.apply(x)), ls2));
        }

        /** Non-causal multi-head self-attention, x [N, L, C] → [N, L, C]. */
        private Tensor selfAttention(Tensor x) {
            int n = x.dim(0), l = x.dim(1), c = config.hiddenSize(), heads = config.numAttentionHeads(), d = config.headDim();
            Tensor qkv = linear(x, qkvWeight, qkvBias);                   // [N, L, 3C] = [q | k | v]
            Tensor q = qkv.narrow(2, 0, c), k = qkv.narrow(2, c, c), v = qkv.narrow(2, 2 * c, c);
            if (qNorm != null) {
                // RMS over all heads together, as InternRMSNorm(embed_dim) does
                q = rmsNorm(q, qNorm, (float) config.layerNormEps());
                k = rmsNorm(k, kNorm, (float) config.layerNormEps());
            }
            q = q.reshape(n, l, heads, d).transpose(1, 2);                // [N, H, L, D]
            k = k.reshape(n, l, heads, d).transpose(1, 2);
            v = v.reshape(n, l, heads, d).transpose(1, 2);
            Tensor o = attention(q, k, v, null, false, (float) (1.0 / Math.sqrt(d)));
            return linear(o.transpose(1, 2).reshape(n, l, c), projWeight, projBias);
        }

        private Tensor mlp(Tensor x) {
            return linear(config.activation(linear(x, fc1Weight, fc1Bias)), fc2Weight, fc2Bias);
        }
    }
}
