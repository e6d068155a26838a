package dev.zoetrope.models.internvl;

import dev.zoetrope.core.Scope;
import dev.zoetrope.models.internvl.ConversationTemplate.Turn;
import dev.zoetrope.models.llm.GenerationConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A session where an image joins in round 2 answers as chat() with the history and that image, reusing the
 * cached first round; a failed round leaves the session unchanged; reset() starts over; seeded sampled
 * sessions are reproducible as a whole.
 */
class ChatSessionTest {
    static InternVLChat chat;
    static final GenerationConfig GREEDY = GenerationConfig.greedy(8, List.of());

    @BeforeAll
    static void load() {
        chat = InternVLChat.load(InternVlFixtures.modelDir());
    }

    @AfterAll
    static void close() {
        chat.close();
    }

    @Test
    void anImageJoiningInRoundTwoAnswersAsChatWithHistory() {
        try (Scope s = Scope.open(); ChatSession session = chat.session(null)) {
            InternVLChat.Images square = chat.encodeImages(FixturePixelValues.load(FixturePixelValues.singleTileCase()), null);
            InternVLChat.Reply first = session.ask("Hello, who are you?", GREEDY, null);
            String question = "<image>\nWhat shape is in the middle?";
            InternVLChat.Reply second = session.ask(question, square, GREEDY, null);
            assertTrue(session.lastReusedTokens() >= first.inputIds().length, "round 1 came from the cache");
            InternVLChat.Reply expected = chat.chat(question, square, List.of(new Turn("Hello, who are you?", first.response())),
                    GREEDY, null);
            assertEquals(expected.query(), second.query());
            assertArrayEquals(expected.outputIds(), second.outputIds());
            assertEquals(List.of(1), session.images().numPatchesList());

            // a round that fails (two placeholders, one more image) leaves images and history as they were
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> session.ask("Image-2: <image>\nImage-3: <image>\nAnd these?", square, GREEDY, null));
            assertTrue(e.getMessage().contains("3 <image> placeholders but only 2 images"), e.getMessage());
            assertEquals(List.of(1), session.images().numPatchesList());
            assertEquals(2, session.history().size());

            session.reset();
            assertNull(session.images());
            assertEquals(0, session.history().size());
            InternVLChat.Reply again = session.ask("Hello, who are you?", GREEDY, null);
            assertArrayEquals(first.outputIds(), again.outputIds());
        }
    }

    @Test
    void aSeededSampledSessionIsReproducibleAndDrawsOneStream() {
        GenerationConfig sampled = GREEDY.withSampling(1.3, 0, 1.0, 11L);
        int[][] runs = new int[2][];
        for (int run = 0; run < 2; run++) {
            try (Scope s = Scope.open(); ChatSession session = chat.session(null)) {
                int[] a = session.ask("Hello, who are you?", sampled, null).outputIds();
                int[] b = session.ask("Can you tell me a story?", sampled, null).outputIds();
                runs[run] = concat(a, b);
            }
        }
        assertArrayEquals(runs[0], runs[1]);
        // round 1 alone equals one chat() with that seed: the session's stream starts at torch.manual_seed(11)
        try (Scope s = Scope.open()) {
            int[] alone = chat.chat("Hello, who are you?", null, null, sampled, null).outputIds();
            assertArrayEquals(alone, java.util.Arrays.copyOf(runs[0], alone.length));
        }
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
