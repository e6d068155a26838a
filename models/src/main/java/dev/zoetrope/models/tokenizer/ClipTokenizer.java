package dev.zoetrope.models.tokenizer;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * CLIP's byte-level BPE tokenizer as Stable Diffusion pipelines call it ({@code tokenizer(prompt,
 * padding="max_length", max_length=77, truncation=True)}): {@code [bos] + ids[:max-2] + [eos]}, right-padded with
 * the configured pad token (SD: {@code <|endoftext|>}; I2VGen-XL / ModelScope: {@code !}, id 0).
 *
 * <p>Loads a {@code tokenizer/} folder from its tokenizer.json, or, when it has none (most SD repositories),
 * builds the same pipeline from vocab.json + merges.txt: NFC, whitespace runs to one space, per-code-point
 * lowercase, split into letters runs / single digits / punctuation runs / contractions, byte-level BPE with
 * {@code </w>} on the last symbol of each word. Special tokens (bos, eos, unk, pad) are matched in the raw text
 * before normalisation, so with pad {@code !} every {@code !} in a prompt becomes that special token.
 */
public final class ClipTokenizer implements AutoCloseable {
    /** CLIP's context length, used when the config does not give model_max_length. */
    public static final int DEFAULT_MAX_LENGTH = 77;

    private final HfTokenizer tokenizer;
    private final int maxLength;
    private final int bosId;
    private final int eosId;
    private final int padId;
    private final boolean cleanUpTokenizationSpaces;

    /**
     * One encoded prompt.
     *
     * @param ids               [maxLength] bos, up to maxLength-2 BPE ids, eos, then the pad id
     * @param attentionMask     [maxLength] 1 for bos/BPE/eos, 0 for padding (SD pipelines do not pass it on)
     * @param untruncatedLength ids including bos and eos before truncation
     * @param truncatedText     the decoded text that was cut off ("" if nothing was), for a warning
     */
    public record Tokens(int[] ids, int[] attentionMask, int untruncatedLength, String truncatedText) {
        public boolean truncated() {
            return untruncatedLength > ids.length;
        }

        /** Number of non-padding positions. */
        public int length() {
            return Math.min(untruncatedLength, ids.length);
        }
    }

    private ClipTokenizer(HfTokenizer tokenizer, TokenizerFolder folder) {
        this.tokenizer = tokenizer;
        this.maxLength = folder.modelMaxLength(DEFAULT_MAX_LENGTH);
        if (maxLength < 2) throw new TokenizerException(folder.dir() + ": model_max_length " + maxLength + " leaves no room for bos and eos");
        this.bosId = folder.specialTokenId(tokenizer, "bos_token", "<|startoftext|>");
        this.eosId = folder.specialTokenId(tokenizer, "eos_token", "<|endoftext|>");
        this.padId = folder.specialTokenId(tokenizer, "pad_token", "<|endoftext|>");
        this.cleanUpTokenizationSpaces = folder.config().bool("clean_up_tokenization_spaces", true);
    }

    /** Loads a CLIP tokenizer folder (tokenizer.json, else vocab.json + merges.txt, plus tokenizer_config.json). */
    public static ClipTokenizer load(Path dir) {
        TokenizerFolder folder = TokenizerFolder.open(dir);
        return folder.load(TokenizerJsonBuilder::clip, tokenizer -> new ClipTokenizer(tokenizer, folder));
    }

    /** Encodes one prompt to exactly {@link #maxLength()} ids, truncating and padding as the SD pipelines do. */
    public Tokens encode(String prompt) {
        int[] bpe = tokenizer.encode(prompt, false);
        int keep = Math.min(bpe.length, maxLength - 2);
        int[] ids = new int[maxLength];
        int[] mask = new int[maxLength];
        Arrays.fill(ids, padId);
        ids[0] = bosId;
        System.arraycopy(bpe, 0, ids, 1, keep);
        ids[keep + 1] = eosId;
        Arrays.fill(mask, 0, keep + 2, 1);
        String truncatedText = keep < bpe.length ? decode(Arrays.copyOfRange(bpe, keep, bpe.length), false) : "";
        return new Tokens(ids, mask, bpe.length + 2, truncatedText);
    }

    /**
     * Text of ids as transformers' CLIPTokenizer decodes: byte-level decoding, {@code </w>} becomes a space, the
     * ends stripped, then (if the config asks for it) the clean-up of spaces before punctuation.
     */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        String text = pythonStrip(tokenizer.decode(ids, skipSpecialTokens).replace("</w>", " "));
        return cleanUpTokenizationSpaces ? cleanUpTokenizationSpaces(text) : text;
    }

    /** Python's str.strip(): Java's isWhitespace plus the no-break spaces and NEL that Python also strips. */
    static String pythonStrip(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && isPythonSpace(s.codePointAt(start))) start += Character.charCount(s.codePointAt(start));
        while (end > start && isPythonSpace(s.codePointBefore(end))) end -= Character.charCount(s.codePointBefore(end));
        return s.substring(start, end);
    }

    private static boolean isPythonSpace(int cp) {
        return Character.isWhitespace(cp) || cp == 0x85 || cp == 0xA0 || cp == 0x2007 || cp == 0x202F;
    }

    /** transformers' clean_up_tokenization: no space before . ? ! , and English contractions. */
    static String cleanUpTokenizationSpaces(String text) {
        return text.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",")
                .replace(" ' ", "'").replace(" n't", "n't").replace(" 'm", "'m").replace(" 's", "'s")
                .replace(" 've", "'ve").replace(" 're", "'re");
    }

    public int maxLength() {
        return maxLength;
    }

    public int bosId() {
        return bosId;
    }

    public int eosId() {
        return eosId;
    }

    public int padId() {
        return padId;
    }

    /** The underlying tokenizer (vocabulary lookups). */
    public HfTokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
