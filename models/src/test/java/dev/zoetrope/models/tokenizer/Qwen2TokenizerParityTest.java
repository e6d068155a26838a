package dev.zoetrope.models.tokenizer;

import dev.zoetrope.core.Json;
import dev.zoetrope.core.testing.Fixtures;
import dev.zoetrope.models.internvl.InternVlFixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static dev.zoetrope.models.tokenizer.ClipTokenizerParityTest.copyWithoutTokenizerJson;
import static dev.zoetrope.models.tokenizer.ClipTokenizerParityTest.ints;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Qwen2 tokenizer parity, ids exact, each check run on the tokenizer loaded from tokenizer.json and from
 * vocab.json + merges.txt + the added-token configuration alone:
 * the tiny InternVL2 tokenizer (internvl/cases/tokenizer.json, and the prompt of every chat case) and the real
 * Qwen2 vocabulary (qwen2-tokenizer: test_strings.json, published_examples.json). Decoding and the streaming
 * decoder are checked on the same data.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Qwen2TokenizerParityTest {
    private final List<Qwen2Tokenizer> tiny = new ArrayList<>();
    private final List<Qwen2Tokenizer> real = new ArrayList<>();

    @BeforeAll
    void load(@TempDir Path temp) throws IOException {
        Path tinyDir = InternVlFixtures.modelDir();
        tiny.add(Qwen2Tokenizer.load(tinyDir));
        tiny.add(Qwen2Tokenizer.load(tokenizerFilesOnly(tinyDir, temp.resolve("tiny"))));
        Path realDir = Fixtures.folder("qwen2-tokenizer");
        real.add(Qwen2Tokenizer.load(realDir));
        real.add(Qwen2Tokenizer.load(tokenizerFilesOnly(realDir, temp.resolve("real"))));
    }

    @AfterAll
    void close() {
        tiny.forEach(Qwen2Tokenizer::close);
        real.forEach(Qwen2Tokenizer::close);
    }

    /** The tokenizer files of a folder without tokenizer.json (and without the model files). */
    private static Path tokenizerFilesOnly(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        for (String name : List.of("vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json")) {
            if (Files.exists(from.resolve(name))) Files.copy(from.resolve(name), to.resolve(name));
        }
        return to;
    }

    @Test
    void tinyTokenizerCases() {
        Json.Obj fixture = Fixtures.json(Fixtures.folder("internvl").resolve("cases/tokenizer.json"));
        List<Object> cases = fixture.list("cases");
        assertFalse(cases.isEmpty());
        for (Qwen2Tokenizer tokenizer : tiny) {
            for (Object o : cases) {
                Json.Obj c = Json.Obj.of(o);
                String text = c.string("text", null);
                String what = tokenizer.tokenizer().source() + " " + Json.write(text);
                int[] ids = ints(c.list("ids"));
                assertArrayEquals(ids, tokenizer.encode(text), what);
                assertEquals(c.string("decoded", null), tokenizer.decode(ids, false), what);
                assertEquals(c.string("decoded_skip_special", null), tokenizer.decode(ids, true), what);
                assertStreamsLikeDecode(tokenizer, ids, what);
            }
        }
    }

    @Test
    void tinyTokenizerSpecialIds() {
        Json.Obj summary = InternVlFixtures.summary();
        Json.Obj ids = summary.obj("special_token_ids");
        for (Qwen2Tokenizer tokenizer : tiny) {
            for (String token : ids.map().keySet()) {
                assertEquals(ids.intValue(token, -1), tokenizer.tokenId(token), token);
                assertTrue(tokenizer.isSpecial(tokenizer.tokenId(token)), token);
            }
            assertEquals(tokenizer.tokenId("<|im_end|>"), tokenizer.eosId());
            assertEquals(tokenizer.tokenId("<|endoftext|>"), tokenizer.padId());
            assertEquals(summary.intValue("vocab_size", -1), tokenizer.size());
        }
    }

    /** Every chat case: the exact prompt string (IMG_CONTEXT runs, U+FFFD from lossy history) gives input_ids. */
    @Test
    void chatPrompts() {
        List<InternVlFixtures.Case> chats = InternVlFixtures.cases("chat");
        for (Qwen2Tokenizer tokenizer : tiny) {
            for (InternVlFixtures.Case c : chats) {
                Json.Obj chat = c.manifest();
                String what = tokenizer.tokenizer().source() + " " + c;
                int[] expected = ints(chat.list("input_ids"));
                assertArrayEquals(expected, tokenizer.encode(chat.string("query", null)), what);
                assertEquals(chat.string("query", null), tokenizer.decode(expected, false), what);
                // model.chat's answer: decode(output, skip special), cut at <|im_end|>, stripped.
                int[] output = ints(chat.list("output_ids"));
                String answer = ClipTokenizer.pythonStrip(tokenizer.decode(output, true).split("<\\|im_end\\|>", -1)[0]);
                assertEquals(chat.string("response", null), answer, what);
                assertStreamsLikeDecode(tokenizer, output, what);
                assertStreamsLikeDecode(tokenizer, expected, what);
            }
        }
    }

    @Test
    void batchChatQueries() {
        for (InternVlFixtures.Case c : InternVlFixtures.cases("batch_chat")) {
            batchQueries(c.manifest());
        }
    }

    private void batchQueries(Json.Obj batch) {
        List<String> queries = batch.strings("queries", null);
        List<Object> padded = batch.list("padded_input_ids");
        for (Qwen2Tokenizer tokenizer : tiny) {
            for (int q = 0; q < queries.size(); q++) {
                int[] row = ints(padded.get(q));
                int[] ids = tokenizer.encode(queries.get(q));
                // Left padding with the pad id, then the query's ids.
                int pads = row.length - ids.length;
                for (int i = 0; i < pads; i++) assertEquals(tokenizer.padId(), row[i], "pad " + i);
                assertArrayEquals(java.util.Arrays.copyOfRange(row, pads, row.length), ids, "query " + q);
            }
        }
    }

    @Test
    void realQwen2TestStrings() {
        Json.Obj fixture = Fixtures.json(Fixtures.folder("qwen2-tokenizer").resolve("test_strings.json"));
        List<Object> cases = fixture.list("cases");
        assertFalse(cases.isEmpty(), "no cases in test_strings.json");
        for (Qwen2Tokenizer tokenizer : real) {
            for (Object o : cases) {
                Json.Obj c = Json.Obj.of(o);
                String text = c.string("text", null);
                String what = tokenizer.tokenizer().source() + " " + Json.write(text);
                int[] ids = ints(c.list("ids"));
                assertArrayEquals(ids, tokenizer.encode(text), what);
                String decoded = tokenizer.decode(ids, false);
                assertEquals(c.string("decoded", null), decoded, what);
                assertEquals(Normalizer.normalize(text, Normalizer.Form.NFC).equals(decoded), c.bool("nfc_roundtrip", false), what);
                assertStreamsLikeDecode(tokenizer, ids, what);
            }
        }
    }

    @Test
    void realQwen2PublishedExamples() {
        Json.Obj fixture = Fixtures.json(Fixtures.folder("qwen2-tokenizer").resolve("published_examples.json"));
        for (Qwen2Tokenizer tokenizer : real) {
            for (Object o : fixture.list("cases")) {
                Json.Obj c = Json.Obj.of(o);
                String text = c.string("text", null);
                assertArrayEquals(ints(c.list("expected")), tokenizer.encode(text), tokenizer.tokenizer().source() + " " + Json.write(text));
            }
            // the special tokens sit where tokenizer_config.json's added_tokens_decoder puts them, after the vocabulary
            Json.Obj config = Fixtures.json(Fixtures.folder("qwen2-tokenizer").resolve("tokenizer_config.json"));
            int largest = -1;
            for (var e : config.obj("added_tokens_decoder").map().entrySet()) {
                int id = Integer.parseInt(e.getKey());
                assertEquals(id, tokenizer.tokenId(Json.Obj.of(e.getValue()).string("content", null)));
                largest = Math.max(largest, id);
            }
            assertEquals(tokenizer.tokenId(config.string("eos_token", null)), tokenizer.eosId());
            assertEquals(largest + 1, tokenizer.size());
        }
    }

    /** Multi-byte text: no increment ends inside a character, and the increments add up to decode(). */
    @Test
    void streamingNeverSplitsACharacter() {
        String text = "你好，世界！🤗 Transformers 提供了 👍🏽 emoji 👨‍👩‍👧 and café";
        for (Qwen2Tokenizer tokenizer : real) {
            int[] ids = tokenizer.encode(text);
            StreamDecoder stream = tokenizer.streamDecoder(false);
            StringBuilder sb = new StringBuilder();
            int held = 0;
            for (int id : ids) {
                String piece = stream.next(id);
                assertFalse(piece.contains("\uFFFD"), "increment with a broken character: " + Json.write(piece));
                assertWellFormed(piece);
                if (piece.isEmpty()) held++;
                sb.append(piece);
            }
            assertEquals("", stream.finish());
            assertTrue(held > 0, "byte tokens of the Chinese/emoji text should have been held back at least once");
            assertEquals(text, sb.toString());
        }
    }

    /** A character that never completes comes out as one U+FFFD at the end, as decode() gives it. */
    @Test
    void streamingIncompleteCharacterAtTheEnd() {
        byte[] hug = "🤗".getBytes(java.nio.charset.StandardCharsets.UTF_8); // F0 9F A4 97
        for (Qwen2Tokenizer tokenizer : real) {
            // The single-byte tokens of the first three bytes, then "a": the emoji never completes.
            int[] ids = {byteToken(tokenizer, hug[0]), byteToken(tokenizer, hug[1]), byteToken(tokenizer, hug[2]),
                    tokenizer.tokenId("a")};
            StreamDecoder stream = tokenizer.streamDecoder(true);
            assertEquals("", stream.next(ids[0]));
            assertEquals("", stream.next(ids[1]));
            assertEquals("", stream.next(ids[2]));
            assertTrue(stream.hasPendingBytes());
            assertEquals("\uFFFDa", stream.next(ids[3]));
            assertEquals("", stream.finish());
            assertEquals("\uFFFDa", tokenizer.decode(ids, true));

            int[] cut = java.util.Arrays.copyOf(ids, 3);
            StreamDecoder open = tokenizer.streamDecoder(true);
            for (int id : cut) assertEquals("", open.next(id));
            assertEquals(tokenizer.decode(cut, true), open.finish());
            assertEquals("\uFFFD", tokenizer.decode(cut, true));
        }
    }

    private static int byteToken(Qwen2Tokenizer tokenizer, byte b) {
        return tokenizer.tokenId(String.valueOf(ByteLevel.charOf(b)));
    }

    static void assertStreamsLikeDecode(Qwen2Tokenizer tokenizer, int[] ids, String what) {
        for (boolean skip : new boolean[] {false, true}) {
            StreamDecoder stream = tokenizer.streamDecoder(skip);
            StringBuilder sb = new StringBuilder();
            for (int id : ids) {
                String piece = stream.next(id);
                assertWellFormed(piece);
                sb.append(piece);
            }
            sb.append(stream.finish());
            assertEquals(tokenizer.decode(ids, skip), sb.toString(), what + " (stream, skip special " + skip + ")");
        }
    }

    /** No unpaired surrogate: a character was not cut in half. */
    static void assertWellFormed(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                assertTrue(i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1)), "unpaired surrogate in " + Json.write(s));
                i++;
            } else {
                assertFalse(Character.isLowSurrogate(c), "unpaired surrogate in " + Json.write(s));
            }
        }
    }
}
