package dev.zoetrope.models.tokenizer;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Lossy UTF-8 decoding: the Unicode "maximal subpart" replacement that Rust's from_utf8_lossy and Python's
 * errors="replace" use, and streaming that gives the same text however the bytes are split.
 */
class Utf8StreamTest {
    private static byte[] bytes(int... values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) out[i] = (byte) values[i];
        return out;
    }

    @Test
    void replacementFollowsMaximalSubparts() {
        // Examples of the Unicode standard (table 3-8 and its neighbours): one U+FFFD per maximal subpart.
        assertEquals("a\uFFFD\uFFFD\uFFFDb", Utf8Stream.decodeLossy(bytes(0x61, 0xF1, 0x80, 0x80, 0xE1, 0x80, 0xC2, 0x62)));
        assertEquals("\uFFFD\uFFFD\uFFFD\uFFFD", Utf8Stream.decodeLossy(bytes(0xC0, 0xAF, 0xE0, 0x80)));
        assertEquals("\uFFFD\uFFFD\uFFFD", Utf8Stream.decodeLossy(bytes(0xED, 0xA0, 0x80))); // surrogate
        assertEquals("\uFFFD\uFFFD\uFFFD\uFFFD", Utf8Stream.decodeLossy(bytes(0xF4, 0x90, 0x80, 0x80))); // > U+10FFFF
        assertEquals("\uFFFD", Utf8Stream.decodeLossy(bytes(0xF0, 0x9F, 0xA4))); // incomplete at the end
        assertEquals("é🤗", Utf8Stream.decodeLossy("é🤗".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void agreesWithTheJdkOnRandomBytes() {
        // The JDK's decoder also replaces maximal subparts, except that it takes ED A0..BF (a UTF-16 surrogate
        // written in UTF-8) as one error where Rust and Python see one per byte; those inputs are left out.
        Random random = new Random(7);
        int compared = 0;
        for (int trial = 0; trial < 20_000; trial++) {
            byte[] b = new byte[random.nextInt(12)];
            for (int i = 0; i < b.length; i++) {
                int r = random.nextInt(4);
                b[i] = (byte) (r == 0 ? random.nextInt(0x80) : r == 1 ? 0x80 + random.nextInt(0x40) : 0xC0 + random.nextInt(0x40));
            }
            if (encodesSurrogate(b)) continue;
            assertEquals(new String(b, StandardCharsets.UTF_8), Utf8Stream.decodeLossy(b), java.util.Arrays.toString(b));
            compared++;
        }
        assertEquals(true, compared > 15_000, "compared " + compared);
    }

    private static boolean encodesSurrogate(byte[] b) {
        for (int i = 0; i + 1 < b.length; i++) {
            if ((b[i] & 0xFF) == 0xED && (b[i + 1] & 0xFF) >= 0xA0 && (b[i + 1] & 0xFF) <= 0xBF) return true;
        }
        return false;
    }

    @Test
    void streamingEqualsWholeDecodingForEverySplit() {
        byte[] text = "你好，世界！🤗 👍🏽 ok".getBytes(StandardCharsets.UTF_8);
        byte[] broken = bytes(0xE4, 0xBD, 0x61, 0xF0, 0x9F, 0xA4, 0x97, 0xF0, 0x9F, 0xED, 0xBF, 0xBF, 0xC3);
        for (byte[] all : new byte[][] {text, broken}) {
            String whole = Utf8Stream.decodeLossy(all);
            for (int cut = 0; cut <= all.length; cut++) {
                for (int cut2 = cut; cut2 <= all.length; cut2++) {
                    Utf8Stream stream = new Utf8Stream();
                    String out = stream.feed(java.util.Arrays.copyOfRange(all, 0, cut))
                            + stream.feed(java.util.Arrays.copyOfRange(all, cut, cut2))
                            + stream.feed(java.util.Arrays.copyOfRange(all, cut2, all.length))
                            + stream.finish();
                    assertEquals(whole, out, "split at " + cut + ", " + cut2);
                }
            }
        }
    }
}
