package dev.zoetrope.models.tokenizer;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * T5's SentencePiece unigram tokenizer as Latte / PixArt pipelines call it ({@code tokenizer(prompt,
 * padding="max_length", max_length=120, truncation=True, add_special_tokens=True)}): pieces, then {@code </s>},
 * right-padded with {@code <pad>}; truncation keeps the final {@code </s>}. Characters outside the vocabulary
 * become {@code <unk>} (no byte fallback).
 *
 * <p>Loads the folder's tokenizer.json (the file transformers' T5 tokenizer is loaded from; its precompiled
 * NFKC-style normaliser and Metaspace pre-tokenizer run in the tokenizers engine). A folder with only
 * {@code spiece.model} is not supported: converting the SentencePiece protobuf is not implemented.
 * The pipelines' own prompt clean-up (Latte: {@code prompt.lower().strip()}) is theirs to apply.
 */
public final class T5Tokenizer implements AutoCloseable {
    private final HfTokenizer tokenizer;
    private final int eosId;
    private final int padId;

    /**
     * One encoded prompt.
     *
     * @param ids               [maxLength] pieces, eos, then the pad id
     * @param attentionMask     [maxLength] 1 for pieces and eos, 0 for padding (T5 encoders take it)
     * @param untruncatedLength ids including eos before truncation
     */
    public record Tokens(int[] ids, int[] attentionMask, int untruncatedLength) {
        public boolean truncated() {
            return untruncatedLength > ids.length;
        }

        /** Number of non-padding positions. */
        public int length() {
            return Math.min(untruncatedLength, ids.length);
        }
    }

    private T5Tokenizer(HfTokenizer tokenizer, TokenizerFolder folder) {
        this.tokenizer = tokenizer;
        this.eosId = folder.specialTokenId(tokenizer, "eos_token", "</s>");
        this.padId = folder.specialTokenId(tokenizer, "pad_token", "<pad>");
    }

    /** Loads a T5 tokenizer folder with a tokenizer.json. */
    public static T5Tokenizer load(Path dir) {
        if (java.nio.file.Files.isDirectory(dir) && !java.nio.file.Files.isRegularFile(dir.resolve("tokenizer.json"))) {
            throw new TokenizerException(dir + ": no tokenizer.json; building a T5 tokenizer from spiece.model alone is not supported");
        }
        TokenizerFolder folder = TokenizerFolder.open(dir);
        return folder.load(null, tokenizer -> new T5Tokenizer(tokenizer, folder));
    }

    /** Encodes one prompt to exactly {@code maxLength} ids (Latte uses 120). */
    public Tokens encode(String prompt, int maxLength) {
        if (maxLength < 1) throw new IllegalArgumentException("maxLength must leave room for </s>, got " + maxLength);
        int[] pieces = tokenizer.encode(prompt, false);
        int keep = Math.min(pieces.length, maxLength - 1);
        int[] ids = new int[maxLength];
        int[] mask = new int[maxLength];
        Arrays.fill(ids, padId);
        System.arraycopy(pieces, 0, ids, 0, keep);
        ids[keep] = eosId;
        Arrays.fill(mask, 0, keep + 1, 1);
        return new Tokens(ids, mask, pieces.length + 1);
    }

    /** Text of ids through the file's Metaspace decoder. */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        return tokenizer.decode(ids, skipSpecialTokens);
    }

    public int eosId() {
        return eosId;
    }

    public int padId() {
        return padId;
    }

    public HfTokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
