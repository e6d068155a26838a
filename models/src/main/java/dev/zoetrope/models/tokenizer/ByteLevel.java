package dev.zoetrope.models.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * The GPT-2 byte-to-unicode alphabet that byte-level BPE vocabularies (CLIP, Qwen2) are written in: every byte
 * gets a printable character, so a token string such as {@code "Ġworld"} stands for the bytes {@code " world"}.
 * Printable Latin-1 bytes ({@code !..~}, {@code ¡..¬}, {@code ®..ÿ}) map to themselves; the other 68 bytes
 * map, in byte order, to U+0100, U+0101, ...
 */
public final class ByteLevel {
    private static final char[] BYTE_TO_CHAR = new char[256];
    /** Indexed by char value; -1 where the char is not part of the alphabet. */
    private static final short[] CHAR_TO_BYTE = new short[512];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, (short) -1);
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) next++;
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = (short) b;
        }
    }

    private ByteLevel() {
    }

    /** The alphabet character of one byte. */
    public static char charOf(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    /** The byte an alphabet character stands for, or -1 if {@code c} is not in the alphabet. */
    public static int byteOf(char c) {
        return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    /** The UTF-8 bytes of {@code text} written in the alphabet (what the ByteLevel pre-tokenizer feeds to BPE). */
    public static String encode(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder(bytes.length);
        for (byte b : bytes) sb.append(charOf(b));
        return sb.toString();
    }

    /**
     * The bytes a token stands for, as the ByteLevel decoder computes them: the alphabet bytes if every char of
     * the token is in the alphabet, otherwise (e.g. an added token with a space or CJK text) its own UTF-8 bytes.
     */
    public static byte[] tokenBytes(String token) {
        byte[] out = new byte[token.length()];
        for (int i = 0; i < token.length(); i++) {
            int b = byteOf(token.charAt(i));
            if (b < 0) return token.getBytes(StandardCharsets.UTF_8);
            out[i] = (byte) b;
        }
        return out;
    }
}
