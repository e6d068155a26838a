package dev.zoetrope.models.tokenizer;

import dev.zoetrope.core.Json;
import dev.zoetrope.core.SafeTensors;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * CLIP tokenizer parity: every "tokenizer" case of the sd and video fixture folders whose tokenizer is a
 * CLIPTokenizer, ids / mask / untruncated lengths exact, loaded from tokenizer.json and from vocab.json +
 * merges.txt alone.
 */
class ClipTokenizerParityTest {
    @TempDir
    Path temp;

    static Stream<Fixtures.Case> clipCases() {
        List<Fixtures.Case> out = new ArrayList<>();
        for (String folder : List.of("sd", "video")) {
            for (Fixtures.Case c : Fixtures.cases(folder, "tokenizer")) {
                if ("CLIPTokenizer".equals(tokenizerClass(c))) out.add(c);
            }
        }
        if (out.isEmpty()) throw new IllegalStateException("no CLIP tokenizer cases in the sd / video fixtures");
        return out.stream();
    }

    static String tokenizerClass(Fixtures.Case c) {
        Path config = c.modelDir().resolve("tokenizer/tokenizer_config.json");
        return Fixtures.json(config).string("tokenizer_class", null);
    }

    @ParameterizedTest(name = "{0} from tokenizer.json")
    @MethodSource("clipCases")
    void fromTokenizerJson(Fixtures.Case c) {
        Path dir = c.modelDir().resolve("tokenizer");
        assertTrue(Files.isRegularFile(dir.resolve("tokenizer.json")));
        try (ClipTokenizer tokenizer = ClipTokenizer.load(dir)) {
            check(c, tokenizer);
        }
    }

    @ParameterizedTest(name = "{0} from vocab.json + merges.txt")
    @MethodSource("clipCases")
    void fromVocabAndMerges(Fixtures.Case c) throws IOException {
        Path dir = copyWithoutTokenizerJson(c.modelDir().resolve("tokenizer"), temp.resolve(c.name()));
        try (ClipTokenizer tokenizer = ClipTokenizer.load(dir)) {
            check(c, tokenizer);
        }
    }

    static Path copyWithoutTokenizerJson(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (!f.getFileName().toString().equals("tokenizer.json")) Files.copy(f, to.resolve(f.getFileName()));
            }
        }
        return to;
    }

    private static void check(Fixtures.Case c, ClipTokenizer tokenizer) {
        Json.Obj manifest = c.manifest();
        Json.Obj tolerance = manifest.obj("suggested_tolerance");
        assertEquals(0.0, tolerance.doubleValue("atol", -1), "token ids are compared exactly");
        List<String> prompts = manifest.strings("prompts", null);
        List<Object> untruncatedIds = manifest.list("untruncated_ids");
        try (Scope s = Scope.open(); SafeTensors st = SafeTensors.open(c.tensors())) {
            long[] ids = st.get("input_ids").toLongArray();
            long[] mask = st.get("attention_mask").toLongArray();
            long[] untruncatedLength = st.get("untruncated_length").toLongArray();
            int width = st.info("input_ids").shape()[1];
            assertEquals(width, tokenizer.maxLength());
            assertEquals(prompts.size(), st.info("input_ids").shape()[0]);
            for (int p = 0; p < prompts.size(); p++) {
                String prompt = prompts.get(p);
                ClipTokenizer.Tokens tokens = tokenizer.encode(prompt);
                String what = c.name() + " prompt " + p + " " + Json.write(prompt);
                assertArrayEquals(toInts(Arrays.copyOfRange(ids, p * width, (p + 1) * width)), tokens.ids(), what);
                assertArrayEquals(toInts(Arrays.copyOfRange(mask, p * width, (p + 1) * width)), tokens.attentionMask(), what);
                assertEquals(untruncatedLength[p], tokens.untruncatedLength(), what);
                assertEquals(untruncatedLength[p] > width, tokens.truncated(), what);
                assertEquals(tokens.truncated(), !tokens.truncatedText().isEmpty(), what);

                // The whole untruncated sequence the manifest lists: bos + BPE ids + eos.
                int[] bpe = tokenizer.tokenizer().encode(prompt, false);
                int[] full = new int[bpe.length + 2];
                full[0] = tokenizer.bosId();
                System.arraycopy(bpe, 0, full, 1, bpe.length);
                full[full.length - 1] = tokenizer.eosId();
                assertArrayEquals(ints(untruncatedIds.get(p)), full, what);
            }
        }
    }

    /**
     * SD pads with {@code <|endoftext|>}; the I2VGen-XL / ModelScope tokenizers pad with "!" (id 0): the pad id is the
     * configured pad token's, and it is what the reference wrote after the prompt of every case.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("clipCases")
    void padTokenComesFromTheConfig(Fixtures.Case c) {
        Path dir = c.modelDir().resolve("tokenizer");
        try (ClipTokenizer tokenizer = ClipTokenizer.load(dir); Scope s = Scope.open(); SafeTensors st = SafeTensors.open(c.tensors())) {
            assertEquals(tokenizer.tokenizer().id(TokenizerFolder.open(dir).special("pad_token", "<|endoftext|>")), tokenizer.padId());
            long[] ids = st.get("input_ids").toLongArray(), mask = st.get("attention_mask").toLongArray();
            int padded = 0;
            for (int i = 0; i < ids.length; i++) {
                if (mask[i] == 0) {
                    assertEquals(ids[i], tokenizer.padId(), c + ": id at padded position " + i);
                    padded++;
                }
            }
            assertTrue(padded > 0, c + ": no padded position in the case");
            int[] oneWord = tokenizer.encode("x").ids();
            assertEquals(tokenizer.padId(), oneWord[oneWord.length - 1]);
        }
    }

    /** The case's tokenizer folder for tests that need one CLIP tokenizer. */
    private static Path clipTokenizerDir() {
        return clipCases().findFirst().orElseThrow().modelDir().resolve("tokenizer");
    }

    @Test
    void reportsTruncationAndWhatWasCut() {
        try (ClipTokenizer tokenizer = ClipTokenizer.load(clipTokenizerDir())) {
            int max = tokenizer.maxLength();
            assertEquals(1, tokenizer.tokenizer().encode("a", false).length, "\"a\" is one token in any CLIP vocabulary");
            String prompt = "a ".repeat(max - 2) + "red horse";       // the "a"s fill the room between bos and eos
            int bpe = tokenizer.tokenizer().encode(prompt, false).length;
            ClipTokenizer.Tokens tokens = tokenizer.encode(prompt);
            assertTrue(tokens.truncated());
            assertEquals(bpe + 2, tokens.untruncatedLength());
            assertEquals(max, tokens.length());
            assertEquals(tokenizer.eosId(), tokens.ids()[max - 1]);
            assertEquals("red horse", tokens.truncatedText());
            assertFalse(tokenizer.encode("a red horse").truncated());
        }
    }

    @Test
    void decodesLikeTransformers() {
        try (ClipTokenizer tokenizer = ClipTokenizer.load(clipTokenizerDir())) {
            ClipTokenizer.Tokens tokens = tokenizer.encode("A photograph of an astronaut, riding a horse!");
            // </w> becomes a space, specials dropped, spaces before punctuation cleaned up (config flag).
            assertEquals("a photograph of an astronaut, riding a horse!",
                    tokenizer.decode(Arrays.copyOf(tokens.ids(), tokens.length()), true));
            assertEquals("<|startoftext|>a photograph of an astronaut, riding a horse! <|endoftext|>",
                    tokenizer.decode(Arrays.copyOf(tokens.ids(), tokens.length()), false));
        }
    }

    @Test
    void badFoldersGiveClearErrors() throws IOException {
        Path empty = Files.createDirectories(temp.resolve("empty"));
        TokenizerException e = assertThrows(TokenizerException.class, () -> ClipTokenizer.load(empty));
        assertTrue(e.getMessage().contains("no tokenizer.json and no vocab.json"), e.getMessage());

        Path broken = copyWithoutTokenizerJson(clipTokenizerDir(), temp.resolve("broken"));
        Files.writeString(broken.resolve("merges.txt"), "#version: 0.2\ni n\nthis line is wrong\n");
        e = assertThrows(TokenizerException.class, () -> ClipTokenizer.load(broken));
        assertTrue(e.getMessage().contains("merges.txt: line 3"), e.getMessage());

        Files.writeString(broken.resolve("merges.txt"), "#version: 0.2\ni n\n");
        Files.writeString(broken.resolve("vocab.json"), "{\"a\": 0, ");
        e = assertThrows(TokenizerException.class, () -> ClipTokenizer.load(broken));
        assertTrue(e.getMessage().contains("vocab.json"), e.getMessage());
    }

    static int[] ints(Object jsonList) {
        List<?> l = (List<?>) jsonList;
        int[] out = new int[l.size()];
        for (int i = 0; i < out.length; i++) out[i] = ((Number) l.get(i)).intValue();
        return out;
    }

    static int[] toInts(long[] values) {
        int[] out = new int[values.length];
        for (int i = 0; i < out.length; i++) out[i] = Math.toIntExact(values[i]);
        return out;
    }
}
