package dev.zoetrope.models.tokenizer;

import java.nio.file.Path;

/**
 * Qwen2's byte-level BPE tokenizer (also InternVL2-1B's, with its added {@code <img>}, {@code </img>},
 * {@code <IMG_CONTEXT>}, ... tokens): NFC, the Qwen2 pre-tokenizer regex (contractions, letter runs with one
 * leading non-letter, single digits, punctuation runs, newlines, whitespace), byte-level BPE without unknown
 * token. Added and special tokens are matched in the raw text before normalisation and never split. Encoding
 * adds no BOS/EOS, as {@code tokenizer(text).input_ids} gives for Qwen2.
 *
 * <p>Loads tokenizer.json if the folder has one, else builds the same pipeline from vocab.json + merges.txt with
 * the added tokens of added_tokens.json / tokenizer_config.json (InternVL2 repositories ship no tokenizer.json).
 */
public final class Qwen2Tokenizer implements AutoCloseable {
    private final HfTokenizer tokenizer;
    private final Integer eosId;
    private final Integer padId;
    private final boolean cleanUpTokenizationSpaces;

    private Qwen2Tokenizer(HfTokenizer tokenizer, TokenizerFolder folder) {
        this.tokenizer = tokenizer;
        this.eosId = folder.specialTokenId(tokenizer, "eos_token", null);
        this.padId = folder.specialTokenId(tokenizer, "pad_token", null);
        this.cleanUpTokenizationSpaces = folder.config().bool("clean_up_tokenization_spaces", false);
        if (!"ByteLevel".equals(tokenizer.decoderType())) {
            throw new TokenizerException(tokenizer.source() + ": a Qwen2 tokenizer has a ByteLevel decoder, this one has "
                    + tokenizer.decoderType());
        }
    }

    /** Loads a Qwen2-style tokenizer folder (tokenizer.json, else vocab.json + merges.txt + added tokens). */
    public static Qwen2Tokenizer load(Path dir) {
        TokenizerFolder folder = TokenizerFolder.open(dir);
        return folder.load(TokenizerJsonBuilder::qwen2, tokenizer -> new Qwen2Tokenizer(tokenizer, folder));
    }

    /** Token ids of {@code text} (no BOS/EOS; special tokens written in the text are matched). */
    public int[] encode(String text) {
        return tokenizer.encode(text, false);
    }

    /** Text of {@code ids}; invalid UTF-8 from byte tokens becomes U+FFFD, as in transformers. */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        String text = tokenizer.decode(ids, skipSpecialTokens);
        return cleanUpTokenizationSpaces ? ClipTokenizer.cleanUpTokenizationSpaces(text) : text;
    }

    /**
     * A decoder for generated ids one at a time. Its increments add up to {@link #decode} of all ids (when the
     * configuration asks for no space clean-up, the Qwen2 default).
     */
    public StreamDecoder streamDecoder(boolean skipSpecialTokens) {
        return new StreamDecoder(tokenizer, skipSpecialTokens);
    }

    /** The id of a vocabulary or added token such as {@code <IMG_CONTEXT>}; fails naming the tokenizer if absent. */
    public int tokenId(String token) {
        Integer id = tokenizer.id(token);
        if (id == null) throw new TokenizerException(tokenizer.source() + ": no token '" + token + "'");
        return id;
    }

    /** The configured eos token's id ({@code <|im_end|>} for Qwen2-Instruct / InternVL2), or null. */
    public Integer eosId() {
        return eosId;
    }

    /** The configured pad token's id ({@code <|endoftext|>}), or null. */
    public Integer padId() {
        return padId;
    }

    public boolean isSpecial(int id) {
        return tokenizer.isSpecial(id);
    }

    /** One past the largest token id (vocabulary plus added tokens). */
    public int size() {
        return tokenizer.size();
    }

    public HfTokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
