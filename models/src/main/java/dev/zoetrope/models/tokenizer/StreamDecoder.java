package dev.zoetrope.models.tokenizer;

/**
 * Turns generated token ids into text increments as they arrive, for streaming output. Byte-level BPE tokens
 * are byte strings, and a character (a Chinese ideograph, an emoji) is often spread over several tokens, so the
 * bytes are decoded with a {@link Utf8Stream}: an increment never ends inside a character, and the increments
 * concatenated equal {@code decode(allIds, skipSpecialTokens)} (invalid bytes become U+FFFD the same way).
 * Only for tokenizers with a ByteLevel decoder (GPT-2 / Qwen2 family).
 */
public final class StreamDecoder {
    private final HfTokenizer tokenizer;
    private final boolean skipSpecialTokens;
    private final Utf8Stream utf8 = new Utf8Stream();

    StreamDecoder(HfTokenizer tokenizer, boolean skipSpecialTokens) {
        if (!"ByteLevel".equals(tokenizer.decoderType())) {
            throw new UnsupportedOperationException(tokenizer.source() + ": streaming decoding needs a ByteLevel decoder, the file has "
                    + tokenizer.decoderType());
        }
        this.tokenizer = tokenizer;
        this.skipSpecialTokens = skipSpecialTokens;
    }

    /** Adds one id; returns the text completed by it (empty while a character is still incomplete). */
    public String next(int id) {
        if (id < 0) throw new IllegalArgumentException("negative token id " + id);
        String token = tokenizer.token(id);
        // Like decode(): ids without a token are left out, special tokens too if asked.
        if (token == null || (skipSpecialTokens && tokenizer.isSpecial(id))) return "";
        return utf8.feed(ByteLevel.tokenBytes(token));
    }

    /** Ends the stream: bytes of a character that never completed come out as U+FFFD. */
    public String finish() {
        return utf8.finish();
    }

    /** True while bytes of an incomplete character are held back. */
    public boolean hasPendingBytes() {
        return utf8.pendingBytes() > 0;
    }
}
