package dev.zoetrope.models.internvl;

import dev.zoetrope.core.Json;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.Weights;
import dev.zoetrope.core.testing.Compare;
import dev.zoetrope.core.testing.Fixtures;
import dev.zoetrope.models.llm.GenerationConfig;
import dev.zoetrope.models.llm.Generator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.zoetrope.core.Ops.concat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Generation from the reference's prompt ids and images, for every chat and batch_chat case: image features
 * merged at &lt;IMG_CONTEXT&gt;, prefill + cached greedy decoding, stop at &lt;|im_end|&gt;. Output ids must be
 * exact; the logits of every step within the README tolerance (2e-4 + 1e-4·|b|) of the reference's
 * teacher-forced step_logits. The batch must equal one-by-one generation.
 */
class InternVLGenerationParityTest {
    static final double LOGITS_ATOL = 2e-4, LOGITS_RTOL = 1e-4;
    static InternVLChatModel model;
    static int imgContextId;
    /** extract_feature per preprocess case, computed once (the vision side is checked in InternVisionParityTest). */
    static final Map<String, float[]> FEATURES = new HashMap<>();

    @BeforeAll
    static void load() {
        model = InternVLChatModel.load(InternVlFixtures.modelDir());
        Json.Obj summary = Fixtures.json(InternVlFixtures.folder().resolve("summary.json"));
        imgContextId = summary.obj("special_token_ids").intValue(InternVLChatModel.IMG_CONTEXT_TOKEN, -1);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** extract_feature of the listed preprocess cases, concatenated in order: [tiles, 256, hidden]. */
    static Tensor features(List<String> preprocessCases) {
        List<Tensor> parts = new ArrayList<>();
        for (String name : preprocessCases) {
            float[] f = FEATURES.get(name);
            if (f == null) {
                try (Scope s = Scope.open()) {
                    f = model.extractFeature(FixturePixelValues.load(name)).toFloatArray();
                }
                FEATURES.put(name, f);
            }
            int hidden = model.config().llmConfig().hiddenSize(), tokens = model.numImageToken();
            parts.add(Tensor.of(f, f.length / (tokens * hidden), tokens, hidden));
        }
        if (parts.isEmpty()) return null;
        return parts.size() == 1 ? parts.get(0) : concat(0, parts);
    }

    static List<String> imageCases(Json.Obj manifest) {
        List<String> names = new ArrayList<>();
        for (Object o : manifest.list("images")) names.add(Json.Obj.of(o).string("preprocess_case", null));
        return names;
    }

    static long[] longs(int[] a) {
        long[] out = new long[a.length];
        for (int i = 0; i < a.length; i++) out[i] = a[i];
        return out;
    }

    static GenerationConfig greedy(Json.Obj manifest) {
        return GenerationConfig.greedy(12, List.of(manifest.intValue("eos_token_id", -1)));
    }

    static List<InternVlFixtures.Case> chatCases() {
        return InternVlFixtures.cases("chat");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("chatCases")
    void chatGenerationMatchesReference(InternVlFixtures.Case c) {
        Json.Obj m = c.manifest();
        try (Weights expected = Weights.open(c.tensors()); Scope s = Scope.open()) {
            long[] ids = expected.get("input_ids").toLongArray();
            assertArrayEquals(longs(m.ints("input_ids", null)), ids);
            Tensor features = features(imageCases(m));
            List<float[]> stepLogits = new ArrayList<>();
            Generator.Result result = model.generate(new long[][] {ids}, null, features, imgContextId, greedy(m), null,
                    (step, logits) -> stepLogits.add(logits[0]));
            int[] expectedOut = m.ints("output_ids", null);
            assertArrayEquals(expectedOut, result.tokens().get(0), "greedy output ids");
            Tensor reference = expected.get("step_logits");
            assertEquals(reference.dim(0), stepLogits.size());
            for (int k = 0; k < stepLogits.size(); k++) {
                Compare.assertClose("step " + k + " logits", stepLogits.get(k), reference.select(0, k).toFloatArray(),
                        LOGITS_ATOL, LOGITS_RTOL);
            }
            assertEquals(m.bool("stopped_at_eos", false) ? Generator.FinishReason.STOP : Generator.FinishReason.LENGTH,
                    result.reasons().get(0));
        }
    }

    static List<InternVlFixtures.Case> batchCases() {
        return InternVlFixtures.cases("batch_chat");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("batchCases")
    void batchGenerationMatchesReferenceAndOneByOne(InternVlFixtures.Case c) {
        Json.Obj m = c.manifest();
        try (Weights expected = Weights.open(c.tensors()); Scope s = Scope.open()) {
            Tensor paddedIds = expected.get("input_ids"), mask = expected.get("attention_mask");
            int b = paddedIds.dim(0), t = paddedIds.dim(1);
            long[][] ids = new long[b][];
            boolean[][] real = new boolean[b][t];
            long[] maskValues = mask.toLongArray();
            for (int r = 0; r < b; r++) {
                ids[r] = paddedIds.select(0, r).toLongArray();
                for (int i = 0; i < t; i++) real[r][i] = maskValues[r * t + i] == 1;
            }
            List<String> images = imageCases(m);
            Tensor features = features(images);
            GenerationConfig greedy = greedy(m);
            Generator.Result batch = model.generate(ids, real, features, imgContextId, greedy, null, null);
            List<Object> expectedRows = m.list("output_ids_trimmed_at_eos");
            List<Object> oneByOne = m.list("one_by_one_chat");
            for (int r = 0; r < b; r++) {
                int[] expectedRow = ints(expectedRows.get(r));
                assertArrayEquals(expectedRow, batch.tokens().get(r), "batch row " + r);
                // the same question alone, from its own unpadded prompt
                Json.Obj single = Json.Obj.of(oneByOne.get(r));
                List<float[]> stepLogits = new ArrayList<>();
                Generator.Result alone = model.generate(new long[][] {longs(single.ints("input_ids", null))}, null,
                        features(List.of(images.get(r))), imgContextId, greedy, null, (step, logits) -> stepLogits.add(logits[0]));
                assertArrayEquals(single.ints("output_ids", null), alone.tokens().get(0), "one-by-one row " + r);
                assertArrayEquals(alone.tokens().get(0), batch.tokens().get(r), "batch equals one-by-one, row " + r);
                Tensor reference = expected.get("single" + r + "_step_logits");
                for (int k = 0; k < stepLogits.size(); k++) {
                    Compare.assertClose("row " + r + " step " + k, stepLogits.get(k), reference.select(0, k).toFloatArray(),
                            LOGITS_ATOL, LOGITS_RTOL);
                }
            }
        }
    }

    static int[] ints(Object list) {
        List<?> l = (List<?>) list;
        int[] out = new int[l.size()];
        for (int i = 0; i < out.length; i++) out[i] = ((Number) l.get(i)).intValue();
        return out;
    }

    /** A prompt whose placeholders do not match the images fails with a message, not a crash. */
    @Test
    void featureCountMismatchIsReported() {
        try (Scope s = Scope.open()) {
            Tensor features = features(List.of("square_448x448_max6"));
            long[][] ids = {{1013, imgContextId, imgContextId, 1014}};
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> model.inputEmbeddings(ids, features, 0, imgContextId));
            assertTrue(e.getMessage().contains("2 <IMG_CONTEXT> tokens but the images give 256 feature rows"), e.getMessage());
        }
    }
}
