package dev.zoetrope.bench;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.InMemoryWeights;
import dev.zoetrope.core.Json;
import dev.zoetrope.core.Parallel;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.models.internvl.InternVLChatConfig;
import dev.zoetrope.models.internvl.InternVLChatModel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * An InternVL2-1B-shaped model with random BF16 weights built in memory: the real checkpoint's config
 * (InternViT-300M + Qwen2-0.5B, untied lm_head, vocab 151655) and its tensor names and shapes, so the benchmark
 * runs exactly the code path a downloaded OpenGVLab/InternVL2-1B takes, without the 1.9 GB download. Weights are
 * uniform in ±1/√fan_in (no subnormals, activations stay O(1)); the tensors belong to the caller's scope.
 */
final class SyntheticInternVL2 {
    private SyntheticInternVL2() {
    }

    /** The architecture keys of OpenGVLab/InternVL2-1B's config.json (values as published). */
    static final String CONFIG_JSON = """
            {
              "architectures": ["InternVLChatModel"], "model_type": "internvl_chat", "template": "Hermes-2",
              "downsample_ratio": 0.5, "dynamic_image_size": true, "force_image_size": 448, "ps_version": "v2",
              "select_layer": -1, "use_thumbnail": true, "min_dynamic_patch": 1, "max_dynamic_patch": 12,
              "llm_config": {
                "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_act": "silu",
                "hidden_size": 896, "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14,
                "num_key_value_heads": 2, "max_position_embeddings": 32768, "rms_norm_eps": 1e-06,
                "rope_theta": 1000000.0, "tie_word_embeddings": false, "use_sliding_window": false,
                "vocab_size": 151655, "bos_token_id": 151643, "eos_token_id": 151645
              },
              "vision_config": {
                "architectures": ["InternVisionModel"], "model_type": "intern_vit_6b", "hidden_act": "gelu",
                "hidden_size": 1024, "image_size": 448, "intermediate_size": 4096, "layer_norm_eps": 1e-06,
                "norm_type": "layer_norm", "num_attention_heads": 16, "num_channels": 3, "num_hidden_layers": 24,
                "patch_size": 14, "qk_normalization": false, "qkv_bias": true
              }
            }
            """;

    static InternVLChatConfig config() {
        return InternVLChatConfig.fromJson(Json.Obj.of(Json.parse(CONFIG_JSON)), "synthetic InternVL2-1B config");
    }

    /** The model and the weights it reads. */
    record Built(InternVLChatModel model, InMemoryWeights weights) {
    }

    /** Builds every tensor of the checkpoint (in the current scope) and the model over them. */
    static Built build(long seed) {
        InternVLChatConfig config = config();
        RandomBf16 w = new RandomBf16(new InMemoryWeights("synthetic InternVL2-1B"));
        var v = config.visionConfig();
        int c = v.hiddenSize(), inter = v.intermediateSize(), p = v.patchSize(), g = v.gridSize();
        w.random("vision_model.embeddings.class_embedding", seed, 1, 1, c);
        w.random("vision_model.embeddings.patch_embedding.weight", seed, c, v.numChannels(), p, p);
        w.random("vision_model.embeddings.patch_embedding.bias", seed, c);
        w.random("vision_model.embeddings.position_embedding", seed, 1, 1 + g * g, c);
        for (int i = 0; i < v.numHiddenLayers(); i++) {
            String l = "vision_model.encoder.layers." + i + ".";
            w.ones(l + "norm1.weight", c).random(l + "norm1.bias", seed, c);
            w.ones(l + "norm2.weight", c).random(l + "norm2.bias", seed, c);
            w.ones(l + "ls1", c).ones(l + "ls2", c);
            w.random(l + "attn.qkv.weight", seed, 3 * c, c).random(l + "attn.qkv.bias", seed, 3 * c);
            w.random(l + "attn.proj.weight", seed, c, c).random(l + "attn.proj.bias", seed, c);
            w.random(l + "mlp.fc1.weight", seed, inter, c).random(l + "mlp.fc1.bias", seed, inter);
            w.random(l + "mlp.fc2.weight", seed, c, inter).random(l + "mlp.fc2.bias", seed, c);
        }
        var q = config.llmConfig();
        int h = q.hiddenSize(), kv = q.numKeyValueHeads() * q.headDim(), qo = q.numAttentionHeads() * q.headDim();
        int shuffled = c * config.shuffleFactor() * config.shuffleFactor();
        w.ones("mlp1.0.weight", shuffled).random("mlp1.0.bias", seed, shuffled);
        w.random("mlp1.1.weight", seed, h, shuffled).random("mlp1.1.bias", seed, h);
        w.random("mlp1.3.weight", seed, h, h).random("mlp1.3.bias", seed, h);
        String lm = "language_model.";
        w.random(lm + "model.embed_tokens.weight", seed, q.vocabSize(), h);
        for (int i = 0; i < q.numHiddenLayers(); i++) {
            String l = lm + "model.layers." + i + ".";
            w.ones(l + "input_layernorm.weight", h).ones(l + "post_attention_layernorm.weight", h);
            w.random(l + "self_attn.q_proj.weight", seed, qo, h).random(l + "self_attn.q_proj.bias", seed, qo);
            w.random(l + "self_attn.k_proj.weight", seed, kv, h).random(l + "self_attn.k_proj.bias", seed, kv);
            w.random(l + "self_attn.v_proj.weight", seed, kv, h).random(l + "self_attn.v_proj.bias", seed, kv);
            w.random(l + "self_attn.o_proj.weight", seed, h, qo);
            w.random(l + "mlp.gate_proj.weight", seed, q.intermediateSize(), h);
            w.random(l + "mlp.up_proj.weight", seed, q.intermediateSize(), h);
            w.random(l + "mlp.down_proj.weight", seed, h, q.intermediateSize());
        }
        w.ones(lm + "model.norm.weight", h);
        w.random(lm + "lm_head.weight", seed, q.vocabSize(), h);
        return new Built(new InternVLChatModel(w.weights.source(), config, w.weights), w.weights);
    }

    /**
     * Bytes of weights one decode step reads: every language-model tensor except the embedding table, of
     * which one row is read.
     */
    static long decodeWeightBytes(Built built) {
        var q = built.model().config().llmConfig();
        long bytes = 0;
        for (String name : built.weights().namesWithPrefix("language_model.")) {
            long size = built.weights().info(name).byteLength();
            bytes += name.endsWith("embed_tokens.weight") ? size / q.vocabSize() : size;
        }
        return bytes;
    }

    /** Fills in-memory weights with BF16 tensors named as in the checkpoint. */
    private record RandomBf16(InMemoryWeights weights) {
        RandomBf16 ones(String name, int... shape) {
            Tensor t = Tensor.empty(DType.BF16, shape);
            MemorySegment s = t.segment();
            short one = (short) (Float.floatToRawIntBits(1f) >>> 16);
            for (long i = 0; i < t.numel(); i++) s.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, one);
            weights.put(name, t);
            return this;
        }

        /** Uniform in ±1/√fan_in (fan_in = the last dimensions after the first), as BF16. */
        RandomBf16 random(String name, long seed, int... shape) {
            Tensor t = Tensor.empty(DType.BF16, shape);
            long n = t.numel();
            long fanIn = shape.length > 1 ? n / shape[0] : shape[0];
            float scale = (float) (1 / Math.sqrt(fanIn));
            long salt = seed * 0x9E3779B97F4A7C15L + name.hashCode();
            MemorySegment s = t.segment();
            Parallel.forRange(n, 1 << 20, (start, end) -> {
                long x = mix(salt + start);
                for (long i = start; i < end; i++) {
                    x ^= x << 13;
                    x ^= x >>> 7;
                    x ^= x << 17;
                    float u = ((x >>> 40) * 0x1.0p-24f) * 2f - 1f;   // uniform in [-1, 1)
                    s.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) (Float.floatToRawIntBits(u * scale) >>> 16));
                }
            });
            weights.put(name, t);
            return this;
        }

        private static long mix(long z) {
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            z ^= z >>> 31;
            return z == 0 ? 1 : z;
        }
    }
}
