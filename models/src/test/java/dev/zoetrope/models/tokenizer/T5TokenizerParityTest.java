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
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static dev.zoetrope.models.tokenizer.ClipTokenizerParityTest.ints;
import static dev.zoetrope.models.tokenizer.ClipTokenizerParityTest.toInts;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** T5 tokenizer parity: every "tokenizer" case of the video fixtures whose tokenizer is a T5Tokenizer, exact ids. */
class T5TokenizerParityTest {
    static Stream<Fixtures.Case> t5Cases() {
        List<Fixtures.Case> out = new ArrayList<>();
        for (Fixtures.Case c : Fixtures.cases("video", "tokenizer")) {
            if ("T5Tokenizer".equals(ClipTokenizerParityTest.tokenizerClass(c))) out.add(c);
        }
        if (out.isEmpty()) throw new IllegalStateException("no T5 tokenizer cases in the video fixtures");
        return out.stream();
    }

    @ParameterizedTest
    @MethodSource("t5Cases")
    void matchesTheReference(Fixtures.Case c) {
        Json.Obj manifest = c.manifest();
        assertEquals(0.0, manifest.obj("suggested_tolerance").doubleValue("atol", -1), "token ids are compared exactly");
        List<String> prompts = manifest.strings("prompts", null);
        List<Object> untruncatedIds = manifest.list("untruncated_ids");
        try (T5Tokenizer tokenizer = T5Tokenizer.load(c.modelDir().resolve("tokenizer"));
             Scope s = Scope.open(); SafeTensors st = SafeTensors.open(c.tensors())) {
            long[] ids = st.get("input_ids").toLongArray();
            long[] mask = st.get("attention_mask").toLongArray();
            long[] untruncatedLength = st.get("untruncated_length").toLongArray();
            int width = st.info("input_ids").shape()[1];
            assertEquals(prompts.size(), st.info("input_ids").shape()[0]);
            for (int p = 0; p < prompts.size(); p++) {
                String what = c.name() + " prompt " + p + " " + Json.write(prompts.get(p));
                T5Tokenizer.Tokens tokens = tokenizer.encode(prompts.get(p), width);
                assertArrayEquals(toInts(Arrays.copyOfRange(ids, p * width, (p + 1) * width)), tokens.ids(), what);
                assertArrayEquals(toInts(Arrays.copyOfRange(mask, p * width, (p + 1) * width)), tokens.attentionMask(), what);
                assertEquals(untruncatedLength[p], tokens.untruncatedLength(), what);
                assertEquals(untruncatedLength[p] > width, tokens.truncated(), what);
                int[] pieces = tokenizer.tokenizer().encode(prompts.get(p), false);
                int[] full = Arrays.copyOf(pieces, pieces.length + 1);
                full[pieces.length] = tokenizer.eosId();
                assertArrayEquals(ints(untruncatedIds.get(p)), full, what);
            }
        }
    }

    @Test
    void needsTokenizerJson(@TempDir Path temp) throws IOException {
        Path t5 = t5Cases().findFirst().orElseThrow().modelDir().resolve("tokenizer");
        Path dir = ClipTokenizerParityTest.copyWithoutTokenizerJson(t5, temp.resolve("t5"));
        TokenizerException e = assertThrows(TokenizerException.class, () -> T5Tokenizer.load(dir));
        assertTrue(e.getMessage().contains("spiece.model alone is not supported"), e.getMessage());
    }
}
