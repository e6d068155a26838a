package dev.zoetrope.models.qwen2;

import dev.zoetrope.core.Json;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.Weights;
import dev.zoetrope.core.testing.Compare;
import dev.zoetrope.core.testing.Fixtures;
import dev.zoetrope.models.internvl.InternVlFixtures;
import dev.zoetrope.models.llm.KvCache;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Qwen2 alone against the InternVL fixture's "llm" cases (transformers Qwen2ForCausalLM, no cache): embeddings,
 * every decoder layer's output, the final norm and the logits, from the BF16 and the F32 weight files.
 * Tolerances are the fixture README's: hidden states 1e-4 + 1e-4·|b|, logits 2e-4 + 1e-4·|b|.
 */
class Qwen2ParityTest {
    static final double HIDDEN_ATOL = 1e-4, HIDDEN_RTOL = 1e-4, LOGITS_ATOL = 2e-4, LOGITS_RTOL = 1e-4;

    static Stream<Object[]> cases() {
        List<Object[]> out = new ArrayList<>();
        for (InternVlFixtures.Case c : InternVlFixtures.cases("llm")) {
            for (String file : new String[] {"model.safetensors", "model-fp32.safetensors"}) out.add(new Object[] {c, file});
        }
        return out.stream();
    }

    static Qwen2Config config() {
        Json.Obj json = Fixtures.json(InternVlFixtures.modelDir().resolve("config.json"));
        return Qwen2Config.fromJson(json.obj("llm_config"), "config.json llm_config");
    }

    @ParameterizedTest(name = "{0} from {1}")
    @MethodSource("cases")
    void matchesTransformers(InternVlFixtures.Case c, String weightsFile) {
        Path modelFile = InternVlFixtures.modelDir().resolve(weightsFile);
        try (Weights weights = Weights.open(modelFile); Weights expected = Weights.open(c.tensors()); Scope s = Scope.open()) {
            Qwen2ForCausalLM model = new Qwen2ForCausalLM(config(), weights.prefixed("language_model."));
            long[] ids = expected.get("input_ids").toLongArray();
            int[] manifestIds = c.manifest().ints("input_ids", null);
            assertEquals(manifestIds.length, ids.length);
            int t = ids.length;
            Tensor embeds = model.embed(Tensor.ofLongs(ids, 1, t));
            Compare.assertClose("embeddings", embeds.reshape(t, -1), expected.get("embeddings"), HIDDEN_ATOL, HIDDEN_RTOL);

            Tensor layerOutputs = expected.get("layer_outputs");
            List<Integer> seen = new ArrayList<>();
            KvCache cache = model.newCache(1, t);
            Tensor hidden = model.forward(embeds, cache, null, null, (layer, h) -> {
                Compare.assertClose("layer " + layer + " output", h.reshape(t, -1), layerOutputs.select(0, layer),
                        HIDDEN_ATOL, HIDDEN_RTOL);
                seen.add(layer);
            });
            assertEquals(layerOutputs.dim(0), seen.size(), "every decoder layer observed");
            assertEquals(t, cache.length());
            cache.close();
            Compare.assertClose("final norm", hidden.reshape(t, -1), expected.get("final_norm"), HIDDEN_ATOL, HIDDEN_RTOL);
            Compare.assertClose("logits", model.logits(hidden).reshape(t, -1), expected.get("logits"), LOGITS_ATOL, LOGITS_RTOL);
            assertArrayEquals(new int[] {1, model.vocabSize()}, model.lastLogits(hidden).shape());
        }
    }

    /** Prefill of a prefix then token-by-token decode through the cache gives the no-cache logits. */
    @ParameterizedTest(name = "{0} incremental")
    @MethodSource("cases")
    void cachedDecodeMatchesFullForward(InternVlFixtures.Case c, String weightsFile) {
        if (!weightsFile.equals("model.safetensors")) return; // one weight file is enough for the cache logic
        try (Weights weights = Weights.open(InternVlFixtures.modelDir().resolve(weightsFile));
             Weights expected = Weights.open(c.tensors()); Scope s = Scope.open()) {
            Qwen2ForCausalLM model = new Qwen2ForCausalLM(config(), weights.prefixed("language_model."));
            long[] ids = expected.get("input_ids").toLongArray();
            int t = ids.length, prefix = t / 2;
            Tensor logits = expected.get("logits");
            KvCache cache = model.newCache(1, 4);   // too small on purpose: grows while decoding
            long[] head = java.util.Arrays.copyOf(ids, prefix);
            Tensor hidden = model.forward(model.embed(Tensor.ofLongs(head, 1, prefix)), cache);
            Compare.assertClose("prefill last logits", model.lastLogits(hidden).reshape(-1), logits.select(0, prefix - 1),
                    LOGITS_ATOL, LOGITS_RTOL);
            for (int i = prefix; i < t; i++) {
                try (Scope step = Scope.open()) {
                    Tensor h = model.forward(model.embed(Tensor.ofLongs(new long[] {ids[i]}, 1, 1)), cache);
                    Compare.assertClose("decode logits at " + i, model.lastLogits(h).reshape(-1), logits.select(0, i),
                            LOGITS_ATOL, LOGITS_RTOL);
                }
            }
            assertEquals(t, cache.length());
            cache.close();
        }
    }
}
