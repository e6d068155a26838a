package dev.zoetrope.models.qwen2;

import dev.zoetrope.core.CheckpointException;
import dev.zoetrope.core.Json;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.Weights;
import dev.zoetrope.core.testing.Compare;
import dev.zoetrope.models.internvl.InternVlFixtures;
import dev.zoetrope.models.llm.GenerationConfig;
import dev.zoetrope.models.llm.Generator;
import dev.zoetrope.models.llm.KvCache;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Generation on the fixture's tiny Qwen2 (text only, from the llm case's prompt): seeded sampling, top-k 1 =
 * greedy, a left-padded batch row equal to the same prompt alone, explicit positions, and config parsing.
 */
class Qwen2GenerationTest {
    static Weights weights;
    static Qwen2ForCausalLM model;
    static long[] prompt;

    @BeforeAll
    static void load() {
        weights = Weights.open(InternVlFixtures.modelDir().resolve("model.safetensors"));
        model = new Qwen2ForCausalLM(Qwen2ParityTest.config(), weights.prefixed("language_model."));
        prompt = java.util.Arrays.stream(InternVlFixtures.cases("llm").get(0).manifest().ints("input_ids", null))
                .asLongStream().toArray();
    }

    @AfterAll
    static void close() {
        weights.close();
    }

    static Generator.Result run(long[][] ids, boolean[][] real, GenerationConfig config) {
        try (KvCache cache = model.newCache(ids.length, 8); Scope s = Scope.open()) {
            long[] flat = java.util.Arrays.stream(ids).flatMapToLong(java.util.Arrays::stream).toArray();
            Tensor embeds = model.embed(Tensor.ofLongs(flat, ids.length, ids[0].length));
            return Generator.generate(model, cache, embeds, real, null, config, null);
        }
    }

    @Test
    void samplingIsReproducibleBySeedAndTopK1IsGreedy() {
        GenerationConfig greedy = GenerationConfig.greedy(10, List.of());
        int[] argmax = run(new long[][] {prompt}, null, greedy).tokens().get(0);
        GenerationConfig hot = greedy.withSampling(1.5, 0, 1.0, 1234L);
        int[] a = run(new long[][] {prompt}, null, hot).tokens().get(0);
        int[] b = run(new long[][] {prompt}, null, hot).tokens().get(0);
        int[] c = run(new long[][] {prompt}, null, greedy.withSampling(1.5, 0, 1.0, 99L)).tokens().get(0);
        assertArrayEquals(a, b, "same seed, same tokens");
        assertNotEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(c), "another seed, other tokens");
        assertArrayEquals(argmax, run(new long[][] {prompt}, null, greedy.withSampling(2.0, 1, 0.9, 5L)).tokens().get(0));
    }

    @Test
    void stopsAtEosAndPadsTheFinishedRow() {
        int[] free = run(new long[][] {prompt}, null, GenerationConfig.greedy(6, List.of())).tokens().get(0);
        Generator.Result stopped = run(new long[][] {prompt}, null, GenerationConfig.greedy(6, List.of(free[2])));
        assertArrayEquals(java.util.Arrays.copyOf(free, 3), stopped.tokens().get(0));
        assertEquals(Generator.FinishReason.STOP, stopped.reasons().get(0));
    }

    @Test
    void leftPaddedRowEqualsThePromptAlone() {
        int pads = Math.min(7, prompt.length / 2);
        int shorter = prompt.length - pads;
        long[] tail = java.util.Arrays.copyOfRange(prompt, pads, prompt.length);
        long[] padded = new long[prompt.length];
        boolean[] real = new boolean[prompt.length];
        for (int i = 0; i < prompt.length; i++) {
            padded[i] = i < pads ? prompt[0] : tail[i - pads];   // any id at padding: it is masked out
            real[i] = i >= pads;
        }
        boolean[] all = new boolean[prompt.length];
        java.util.Arrays.fill(all, true);
        GenerationConfig greedy = GenerationConfig.greedy(8, List.of());
        Generator.Result batch = run(new long[][] {prompt, padded}, new boolean[][] {all, real}, greedy);
        assertArrayEquals(run(new long[][] {prompt}, null, greedy).tokens().get(0), batch.tokens().get(0));
        assertArrayEquals(run(new long[][] {tail}, null, greedy).tokens().get(0), batch.tokens().get(1));
        assertEquals(shorter, tail.length);
    }

    /** RoPE makes attention depend on position differences only: shifting every position changes nothing. */
    @Test
    void explicitPositionsAreUsed() {
        try (KvCache c1 = model.newCache(1, prompt.length); KvCache c2 = model.newCache(1, prompt.length); Scope s = Scope.open()) {
            Tensor embeds = model.embed(Tensor.ofLongs(prompt, 1, prompt.length));
            long[][] shifted = new long[1][prompt.length];
            for (int i = 0; i < prompt.length; i++) shifted[0][i] = 100 + i;
            long[][] reversed = new long[1][prompt.length];
            for (int i = 0; i < prompt.length; i++) reversed[0][i] = prompt.length - i;
            float[] base = model.lastLogits(model.forward(embeds, c1)).toFloatArray();
            float[] moved = model.lastLogits(model.forward(embeds, c2, null, shifted, null)).toFloatArray();
            Compare.assertClose("shifted positions", moved, base, 1e-3, 1e-3);
            try (KvCache c3 = model.newCache(1, prompt.length)) {
                float[] scrambled = model.lastLogits(model.forward(embeds, c3, null, reversed, null)).toFloatArray();
                assertTrue(Compare.maxAbsError(scrambled, base) > 1e-2, "reversed positions must change the logits");
            }
        }
    }

    @Test
    void configReadsTransformers5RopeParametersAndRefusesWhatItCannotRun() {
        Json.Obj v5 = Json.Obj.of(Json.parse("{\"hidden_size\": 64, \"num_attention_heads\": 4, \"num_key_value_heads\": 2,"
                + " \"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 1000000.0}, \"eos_token_id\": [1, 2]}"));
        Qwen2Config c = Qwen2Config.fromJson(v5, "test");
        assertEquals(1e6, c.ropeTheta());
        assertEquals(16, c.headDim());
        assertEquals(List.of(1, 2), c.eosTokenIds());
        assertEquals(10000.0, Qwen2Config.fromJson(Json.Obj.of(Json.parse("{}")), "test").ropeTheta());
        for (String bad : new String[] {"{\"rope_scaling\": {\"type\": \"yarn\", \"factor\": 4}}",
                "{\"use_sliding_window\": true}", "{\"hidden_act\": \"gelu\"}", "{\"num_attention_heads\": 5, \"num_key_value_heads\": 2}"}) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> Qwen2Config.fromJson(Json.Obj.of(Json.parse(bad)), "cfg.json"));
            assertTrue(e.getMessage().startsWith("cfg.json"), e.getMessage());
        }
    }
}
