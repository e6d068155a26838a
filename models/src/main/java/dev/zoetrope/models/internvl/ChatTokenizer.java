package dev.zoetrope.models.internvl;

/**
 * What InternVL chat needs from a tokenizer (InternVL2-1B: Qwen2's byte-level BPE with InternVL's added
 * tokens): encode without BOS with special tokens matched whole, decode, token lookup, and an incremental
 * decoder for streaming.
 */
public interface ChatTokenizer {

    /** Ids of {@code text}, no BOS/EOS added, special and added tokens kept whole. */
    int[] encode(String text);

    /** Text of {@code ids} (invalid UTF-8 becomes U+FFFD, as transformers decodes). */
    String decode(int[] ids, boolean skipSpecialTokens);

    /** The id of a token written out, e.g. "&lt;IMG_CONTEXT&gt;"; fails when the vocabulary lacks it. */
    int tokenId(String token);

    /** The padding id batches use (Qwen2: &lt;|endoftext|&gt;). */
    int padTokenId();

    /** A fresh incremental decoder. */
    TextStream textStream(boolean skipSpecialTokens);

    /** Turns ids arriving one by one into text increments that never split a UTF-8 character. */
    interface TextStream {
        /** The text this id completes (possibly empty). */
        String next(int id);

        /** Whatever is still held back at the end (incomplete bytes become U+FFFD). */
        String finish();
    }
}
