package dev.zoetrope.models.tokenizer;

/**
 * Incremental, lossy UTF-8 decoding that gives exactly what decoding all bytes at once with
 * {@code String::from_utf8_lossy} (the tokenizers ByteLevel decoder) or Python's {@code errors="replace"} gives:
 * every maximal prefix of a valid sequence that cannot be completed becomes one U+FFFD. A sequence that is
 * still incomplete at the end of the bytes fed so far is held back until more bytes arrive, so a character is
 * never split between two increments.
 */
public final class Utf8Stream {
    private static final char REPLACEMENT = '\uFFFD';

    private byte[] pending = new byte[16];
    private int pendingLength;

    /** Appends bytes and returns the text that became complete (possibly empty). */
    public String feed(byte[] bytes) {
        ensureCapacity(pendingLength + bytes.length);
        System.arraycopy(bytes, 0, pending, pendingLength, bytes.length);
        pendingLength += bytes.length;
        StringBuilder out = new StringBuilder();
        int consumed = decode(pending, pendingLength, false, out);
        System.arraycopy(pending, consumed, pending, 0, pendingLength - consumed);
        pendingLength -= consumed;
        return out.toString();
    }

    /** Ends the stream: an incomplete trailing sequence becomes one U+FFFD. */
    public String finish() {
        StringBuilder out = new StringBuilder();
        decode(pending, pendingLength, true, out);
        pendingLength = 0;
        return out.toString();
    }

    /** Bytes held back because they may start a character that is not complete yet. */
    public int pendingBytes() {
        return pendingLength;
    }

    /** Lossy decoding of a complete byte array. */
    public static String decodeLossy(byte[] bytes) {
        StringBuilder out = new StringBuilder(bytes.length);
        decode(bytes, bytes.length, true, out);
        return out.toString();
    }

    /**
     * Decodes {@code bytes[0, length)} into {@code out}; returns how many bytes were consumed. With
     * {@code atEnd == false} an incomplete but so far valid trailing sequence is left unconsumed.
     */
    private static int decode(byte[] bytes, int length, boolean atEnd, StringBuilder out) {
        int i = 0;
        while (i < length) {
            int b0 = bytes[i] & 0xFF;
            if (b0 < 0x80) {
                out.append((char) b0);
                i++;
                continue;
            }
            int need; // continuation bytes after b0
            int lo = 0x80, hi = 0xBF; // allowed range of the first continuation byte
            if (b0 >= 0xC2 && b0 <= 0xDF) {
                need = 1;
            } else if (b0 >= 0xE0 && b0 <= 0xEF) {
                need = 2;
                if (b0 == 0xE0) lo = 0xA0; // no overlong forms
                if (b0 == 0xED) hi = 0x9F; // no surrogates
            } else if (b0 >= 0xF0 && b0 <= 0xF4) {
                need = 3;
                if (b0 == 0xF0) lo = 0x90; // no overlong forms
                if (b0 == 0xF4) hi = 0x8F; // nothing above U+10FFFF
            } else {
                out.append(REPLACEMENT); // a continuation byte or a byte that never starts a sequence
                i++;
                continue;
            }
            int cp = b0 & (0x3F >> need);
            int k = 1;
            while (k <= need && i + k < length) {
                int b = bytes[i + k] & 0xFF;
                boolean ok = k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
                if (!ok) break;
                cp = (cp << 6) | (b & 0x3F);
                k++;
            }
            if (k > need) {
                out.appendCodePoint(cp);
                i += k;
            } else if (i + k >= length && !atEnd) {
                return i; // valid so far, but the rest has not arrived yet
            } else {
                out.append(REPLACEMENT); // the maximal valid prefix [i, i+k) is one error
                i += k;
            }
        }
        return i;
    }

    private void ensureCapacity(int n) {
        if (n > pending.length) pending = java.util.Arrays.copyOf(pending, Math.max(n, pending.length * 2));
    }
}
