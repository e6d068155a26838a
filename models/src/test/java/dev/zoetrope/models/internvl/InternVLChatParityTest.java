package dev.zoetrope.models.internvl;

import dev.zoetrope.core.Json;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.Weights;
import dev.zoetrope.core.testing.Compare;
import dev.zoetrope.models.internvl.ConversationTemplate.Turn;
import dev.zoetrope.models.llm.GenerationConfig;
import dev.zoetrope.models.llm.Generator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * InternVL2 chat end to end against every "chat" and "batch_chat" case of the fixture (the original
 * model.chat / model.batch_chat, greedy, 12 new tokens): prompt strings, prompt ids, output ids, responses
 * and history exact; the logits of every generated step within the README tolerance (2e-4 + 1e-4·|b|) of the
 * reference's step_logits; batch_chat equal to one-by-one chat; a session reusing its KV cache across rounds
 * answers as chat() with the history does. Images enter as the reference's pixel_values (rebuilt from the
 * stored tiles) through extract_feature.
 */
class InternVLChatParityTest {
    static final double LOGITS_ATOL = 2e-4, LOGITS_RTOL = 1e-4;
    static final GenerationConfig GREEDY_12 = GenerationConfig.greedy(12, List.of());
    static InternVLChatModel model;
    static Qwen2ChatTokenizer tokenizer;
    static InternVLChat chat;

    @BeforeAll
    static void load() {
        model = InternVLChatModel.load(InternVlFixtures.modelDir());
        tokenizer = Qwen2ChatTokenizer.load(InternVlFixtures.modelDir());
        chat = new InternVLChat(model, tokenizer);
    }

    @AfterAll
    static void close() {
        tokenizer.close();
        model.close();
    }

    static List<InternVlFixtures.Case> chatCases() {
        return InternVlFixtures.cases("chat");
    }

    static List<InternVlFixtures.Case> batchCases() {
        return InternVlFixtures.cases("batch_chat");
    }

    static List<Turn> turns(Json.Obj m, String key) {
        List<Object> raw = m.list(key);
        if (raw == null) return null;
        List<Turn> out = new ArrayList<>();
        for (Object o : raw) {
            List<?> pair = (List<?>) o;
            out.add(new Turn((String) pair.get(0), (String) pair.get(1)));
        }
        return out;
    }

    /** The case's images as chat receives them (num_patches_list null → one image of all tiles), or null. */
    static InternVLChat.Images images(Json.Obj m) {
        List<String> cases = FixtureFeatures.imageCases(m);
        if (cases.isEmpty()) return null;
        Tensor features = FixtureFeatures.of(model, cases);
        int[] listed = m.ints("num_patches_list", null);
        List<Integer> patches = listed != null ? java.util.Arrays.stream(listed).boxed().toList() : List.of(features.dim(0));
        return new InternVLChat.Images(features, patches);
    }

    static void assertStepLogits(String what, List<float[]> actual, Tensor expected) {
        assertEquals(expected.dim(0), actual.size(), what + ": steps");
        for (int k = 0; k < actual.size(); k++) {
            Compare.assertClose(what + " step " + k, actual.get(k), expected.select(0, k).toFloatArray(), LOGITS_ATOL, LOGITS_RTOL);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("chatCases")
    void chatMatchesReference(InternVlFixtures.Case c) {
        Json.Obj m = c.manifest();
        try (Weights expected = Weights.open(c.tensors()); Scope s = Scope.open()) {
            InternVLChat.Images images = images(m);
            List<Turn> history = turns(m, "history_in");
            String query = chat.prompts().chatQuery(m.string("question", null), history,
                    images == null ? null : images.numPatchesList());
            assertEquals(m.string("query", null), query, "prompt string");
            assertEquals(m.string("query_compact", null), ChatPrompts.compactQuery(query));
            assertEquals(List.of(m.intValue("eos_token_id", -1)), chat.chatGeneration(GREEDY_12).eosTokenIds());

            StringBuilder streamed = new StringBuilder();
            List<float[]> stepLogits = new ArrayList<>();
            InternVLChat.Reply reply = chat.chat(m.string("question", null), images, history, GREEDY_12, streamed::append,
                    (step, logits) -> stepLogits.add(logits[0]));
            assertEquals(query, reply.query());
            assertArrayEquals(m.ints("input_ids", null), reply.inputIds(), "prompt ids");
            assertEquals(m.intValue("num_img_context_tokens", -1),
                    (int) java.util.Arrays.stream(reply.inputIds()).filter(id -> id == tokenizer.tokenId("<IMG_CONTEXT>")).count());
            assertArrayEquals(m.ints("output_ids", null), reply.outputIds(), "greedy output ids");
            assertEquals(m.string("response", null), reply.response());
            assertEquals(turns(m, "history_out"), reply.history());
            assertEquals(m.bool("stopped_at_eos", false) ? Generator.FinishReason.STOP : Generator.FinishReason.LENGTH,
                    reply.finishReason());
            assertEquals(reply.response(), streamed.toString().strip(), "streamed text adds up to the answer");
            assertStepLogits("chat", stepLogits, expected.get("step_logits"));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("batchCases")
    void batchChatMatchesReferenceAndOneByOne(InternVlFixtures.Case c) {
        Json.Obj m = c.manifest();
        try (Weights expected = Weights.open(c.tensors()); Scope s = Scope.open()) {
            List<String> questions = m.strings("questions", null);
            List<String> imageCases = FixtureFeatures.imageCases(m);
            InternVLChat.Images images = new InternVLChat.Images(FixtureFeatures.of(model, imageCases),
                    java.util.Arrays.stream(m.ints("num_patches_list", null)).boxed().toList());
            InternVLChat.BatchReply batch = chat.batchChat(questions, images, GREEDY_12);

            assertEquals(m.strings("queries", null), batch.prompt().queries());
            Tensor paddedIds = expected.get("input_ids"), mask = expected.get("attention_mask");
            for (int r = 0; r < questions.size(); r++) {
                assertArrayEquals(paddedIds.select(0, r).toLongArray(), batch.prompt().ids()[r], "padded ids row " + r);
                long[] maskRow = mask.select(0, r).toLongArray();
                for (int i = 0; i < maskRow.length; i++) assertEquals(maskRow[i] == 1, batch.prompt().realTokens()[r][i]);
            }
            List<Object> expectedRows = m.list("output_ids_trimmed_at_eos");
            assertEquals(m.strings("responses", null), batch.responses());
            List<Object> oneByOne = m.list("one_by_one_chat");
            for (int r = 0; r < questions.size(); r++) {
                assertArrayEquals(ints(expectedRows.get(r)), batch.outputIds().get(r), "batch row " + r);
                Json.Obj single = Json.Obj.of(oneByOne.get(r));
                List<float[]> stepLogits = new ArrayList<>();
                InternVLChat.Images own = new InternVLChat.Images(FixtureFeatures.of(model, List.of(imageCases.get(r))),
                        List.of(images.numPatchesList().get(r)));
                InternVLChat.Reply alone = chat.chat(questions.get(r), own, null, GREEDY_12, null,
                        (step, logits) -> stepLogits.add(logits[0]));
                assertArrayEquals(single.ints("input_ids", null), alone.inputIds(), "one-by-one prompt ids, row " + r);
                assertArrayEquals(single.ints("output_ids", null), alone.outputIds(), "one-by-one output, row " + r);
                assertArrayEquals(alone.outputIds(), batch.outputIds().get(r), "batch equals one-by-one, row " + r);
                assertEquals(single.string("response", null), alone.response());
                assertStepLogits("one-by-one row " + r, stepLogits, expected.get("single" + r + "_step_logits"));
            }
        }
    }

    /**
     * Every case whose history_in is another case's history_out (same images) is that case's next round: a
     * session asks both questions and must give the second case's output, reusing the first round's cache.
     */
    @Test
    void sessionReusesTheCacheAndAnswersAsChatWithHistory() {
        List<InternVlFixtures.Case> cases = chatCases();
        int pairs = 0;
        for (InternVlFixtures.Case second : cases) {
            List<Turn> in = turns(second.manifest(), "history_in");
            if (in == null) continue;
            for (InternVlFixtures.Case first : cases) {
                if (!in.equals(turns(first.manifest(), "history_out"))
                        || !FixtureFeatures.imageCases(first.manifest()).equals(FixtureFeatures.imageCases(second.manifest()))
                        || turns(first.manifest(), "history_in") != null) {
                    continue;
                }
                pairs++;
                try (Weights expected = Weights.open(second.tensors()); Scope s = Scope.open();
                     ChatSession session = chat.session(images(first.manifest()))) {
                    InternVLChat.Reply one = session.ask(first.manifest().string("question", null), GREEDY_12, null);
                    assertArrayEquals(first.manifest().ints("output_ids", null), one.outputIds(), first + " in a session");
                    assertEquals(0, session.lastReusedTokens());
                    List<float[]> stepLogits = new ArrayList<>();
                    InternVLChat.Reply two = session.ask(second.manifest().string("question", null), GREEDY_12, null,
                            (step, logits) -> stepLogits.add(logits[0]));
                    assertArrayEquals(second.manifest().ints("input_ids", null), two.inputIds(), second + " prompt ids");
                    assertArrayEquals(second.manifest().ints("output_ids", null), two.outputIds(), second + " in a session");
                    assertEquals(turns(second.manifest(), "history_out"), two.history());
                    int firstPrompt = first.manifest().intValue("prompt_len", -1);
                    assertTrue(session.lastReusedTokens() >= firstPrompt,
                            "round 2 reused " + session.lastReusedTokens() + " cached positions, the first prompt alone has " + firstPrompt);
                    assertStepLogits(second + " in a session", stepLogits, expected.get("step_logits"));
                }
            }
        }
        assertTrue(pairs > 0, "the fixture has follow-up rounds (chat_*_round2)");
    }

    /**
     * From the image file itself: model-card preprocessing at the checkpoint's tile size (encodeImage) → chat, for
     * the single-tile image cases (the cheap ones; the tiling itself is checked by InternVlPreprocessParityTest).
     */
    @Test
    void chatFromTheImageFile() {
        int checked = 0;
        for (InternVlFixtures.Case c : chatCases()) {
            Json.Obj m = c.manifest();
            List<String> imageCases = FixtureFeatures.imageCases(m);
            if (imageCases.size() != 1 || FixtureFeatures.tiles(m).get(0) != 1 || m.list("history_in") != null) continue;
            Json.Obj pre = FixturePixelValues.preprocessCase(imageCases.get(0));
            assertEquals(pre.intValue("image_size", -1), model.config().imageSize(), "the reference tiled at the model's size");
            try (Scope s = Scope.open()) {
                InternVLChat.Images image = chat.encodeImage(InternVlFixtures.folder().resolve(pre.string("image", null)),
                        pre.intValue("max_num", 0));
                InternVLChat.Reply reply = chat.chat(m.string("question", null), image, null, GREEDY_12, null);
                assertArrayEquals(m.ints("output_ids", null), reply.outputIds(), c + " from " + pre.string("image", null));
                assertEquals(m.string("response", null), reply.response());
            }
            checked++;
        }
        assertTrue(checked > 0, "a single-tile image case exists");
    }

    @Test
    void mismatchedPlaceholdersAndImagesAreReported() {
        try (Scope s = Scope.open()) {
            Tensor features = FixtureFeatures.of(model, List.of(FixturePixelValues.singleTileCase()));   // [1, tokens, hidden]
            InternVLChat.Images twoImages = new InternVLChat.Images(
                    dev.zoetrope.core.Ops.concat(0, features, features), List.of(1, 1));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> chat.chat("<image>\nOnly one placeholder", twoImages, null, GREEDY_12, null));
            assertTrue(e.getMessage().contains("fewer <image> placeholders than images (2)"), e.getMessage());
            long ctx = tokenizer.tokenId("<IMG_CONTEXT>");
            long start = tokenizer.tokenId("<|im_start|>"), end = tokenizer.tokenId("<|im_end|>");
            e = assertThrows(IllegalArgumentException.class,
                    () -> model.inputEmbeddings(new long[][] {{start, ctx, ctx, end}}, features, 0, (int) ctx));
            assertTrue(e.getMessage().contains("2 <IMG_CONTEXT> tokens but the images give " + model.numImageToken()
                    + " feature rows"), e.getMessage());
        }
    }

    static int[] ints(Object list) {
        List<?> l = (List<?>) list;
        int[] out = new int[l.size()];
        for (int i = 0; i < out.length; i++) out[i] = ((Number) l.get(i)).intValue();
        return out;
    }
}
