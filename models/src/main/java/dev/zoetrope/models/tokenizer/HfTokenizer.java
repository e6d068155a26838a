package dev.zoetrope.models.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.zoetrope.core.Json;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A tokenizer.json pipeline run by the Hugging Face {@code tokenizers} engine (the Rust library, through DJL's
 * JNI binding), plus the id/token tables on the Java side for lookups and streaming decoding. Truncation and
 * padding are left to the model-specific wrappers ({@link ClipTokenizer}, {@link Qwen2Tokenizer}).
 *
 * <p>The native library is taken from the DJL jar (extracted once into DJL's cache directory,
 * {@code ~/.djl.ai/tokenizers} unless {@code DJL_CACHE_DIR} / {@code ENGINE_CACHE_DIR} say otherwise); nothing is
 * downloaded. On a machine with CUDA, DJL would look for a CUDA build of the library that is not in the jar and
 * try to download it, so this class selects the CPU build ({@code RUST_FLAVOR=cpu}) unless the user set
 * {@code RUST_FLAVOR} — tokenizers do not use the GPU.
 */
public final class HfTokenizer implements AutoCloseable {
    static {
        if (System.getenv("RUST_FLAVOR") == null && System.getProperty("RUST_FLAVOR") == null) {
            System.setProperty("RUST_FLAVOR", "cpu");
        }
    }

    private final HuggingFaceTokenizer engine;
    private final String source;
    /** Token string of each id (null where no token has that id). */
    private final String[] tokens;
    private final boolean[] special;
    private final Map<String, Integer> ids;
    private final List<AddedToken> addedTokens;
    private final String decoderType;

    private HfTokenizer(HuggingFaceTokenizer engine, String source, String[] tokens, boolean[] special,
                        Map<String, Integer> ids, List<AddedToken> addedTokens, String decoderType) {
        this.engine = engine;
        this.source = source;
        this.tokens = tokens;
        this.special = special;
        this.ids = ids;
        this.addedTokens = addedTokens;
        this.decoderType = decoderType;
    }

    /** Loads a tokenizer.json file. */
    public static HfTokenizer load(java.nio.file.Path tokenizerJson) {
        String text = TokenizerFolder.readText(tokenizerJson);
        return fromJson(text, parse(text, tokenizerJson.toString()), tokenizerJson.toString());
    }

    static Map<String, Object> parse(String text, String source) {
        try {
            return Json.parseObject(text);
        } catch (Json.JsonException e) {
            throw new TokenizerException(source + ": " + e.getMessage(), e);
        }
    }

    /**
     * A tokenizer from tokenizer.json text and the same document parsed ({@code source} names it in errors).
     * Checks that the engine gives every special added token the id the document lists.
     */
    static HfTokenizer fromJson(String text, Map<String, Object> json, String source) {
        Json.Obj root = new Json.Obj(json);
        Json.Obj model = root.obj("model");
        if (model == null) throw new TokenizerException(source + ": no \"model\" section (is this a tokenizer.json?)");

        Map<String, Integer> ids = new HashMap<>();
        Object vocab = model.raw("vocab");
        if (vocab instanceof Map<?, ?> m) { // BPE, WordPiece, WordLevel: token -> id
            for (Map.Entry<?, ?> e : m.entrySet()) {
                int id = validId(e.getValue());
                if (id < 0) throw new TokenizerException(source + ": model.vocab id of '" + e.getKey() + "' is not a valid id");
                ids.put((String) e.getKey(), id);
            }
        } else if (vocab instanceof List<?> l) { // Unigram: [piece, score] in id order
            for (int i = 0; i < l.size(); i++) {
                if (!(l.get(i) instanceof List<?> entry) || entry.isEmpty() || !(entry.get(0) instanceof String piece)) {
                    throw new TokenizerException(source + ": model.vocab entry " + i + " should be [piece, score]");
                }
                ids.put(piece, i);
            }
        } else {
            throw new TokenizerException(source + ": model.vocab missing or not an object/array");
        }

        List<AddedToken> added = new ArrayList<>();
        List<Object> addedList = root.list("added_tokens");
        if (addedList != null) {
            for (Object o : addedList) {
                Json.Obj t = Json.Obj.of(o);
                String content = t.string("content", null);
                int id = validId(t.raw("id"));
                if (content == null || id < 0) {
                    throw new TokenizerException(source + ": added_tokens entry without content or id: " + Json.write(o));
                }
                boolean isSpecial = t.bool("special", false);
                added.add(new AddedToken(content, id, isSpecial, t.bool("normalized", !isSpecial),
                        t.bool("lstrip", false), t.bool("rstrip", false), t.bool("single_word", false)));
                ids.put(content, id);
            }
        }

        int size = 0;
        for (int id : ids.values()) size = Math.max(size, id + 1);
        String[] tokens = new String[size];
        for (Map.Entry<String, Integer> e : ids.entrySet()) tokens[e.getValue()] = e.getKey();
        boolean[] special = new boolean[size];
        for (AddedToken t : added) {
            tokens[t.id()] = t.content();
            special[t.id()] = t.special();
        }

        HuggingFaceTokenizer engine = createEngine(text, source);
        Json.Obj decoder = root.obj("decoder");
        String decoderType = decoder == null ? null : decoder.string("type", null);
        HfTokenizer tokenizer = new HfTokenizer(engine, source, tokens, special, ids, List.copyOf(added), decoderType);
        try {
            tokenizer.checkAddedTokenIds();
        } catch (RuntimeException e) {
            tokenizer.close();
            throw e;
        }
        return tokenizer;
    }

    /** A JSON id (Long when parsed, Integer when built in memory) as an int, or -1 if it is not one. */
    private static int validId(Object value) {
        if (value instanceof Integer i) return i;
        if (value instanceof Long l && l >= 0 && l <= Integer.MAX_VALUE) return (int) (long) l;
        return -1;
    }

    private static HuggingFaceTokenizer createEngine(String text, String source) {
        // Truncation, padding and special tokens are applied by the callers, exactly as the reference does.
        Map<String, String> options = Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false");
        try {
            return HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), options);
        } catch (IOException e) {
            throw new TokenizerException(source + ": cannot load: " + e.getMessage(), e);
        } catch (UnsatisfiedLinkError | ExceptionInInitializerError | NoClassDefFoundError e) {
            throw new TokenizerException("cannot load the native tokenizers library shipped in DJL's tokenizers jar for "
                    + System.getProperty("os.name") + "/" + System.getProperty("os.arch")
                    + " (supported: linux x86_64/aarch64, macOS aarch64, Windows x86_64): " + e, e);
        } catch (RuntimeException e) {
            throw new TokenizerException(source + ": the tokenizers engine rejected it: " + e.getMessage(), e);
        }
    }

    /** Every special added token must come back as itself with the id the file lists. */
    private void checkAddedTokenIds() {
        for (AddedToken t : addedTokens) {
            if (!t.special() || t.normalized()) continue;
            int[] got = encode(t.content(), false);
            if (got.length != 1 || got[0] != t.id()) {
                throw new TokenizerException(source + ": added token '" + t.content() + "' should encode to [" + t.id()
                        + "] but the engine gives " + Arrays.toString(got));
            }
        }
    }

    /** Token ids of {@code text}; {@code addSpecialTokens} applies the file's post-processor (bos/eos templates). */
    public int[] encode(String text, boolean addSpecialTokens) {
        java.util.Objects.requireNonNull(text, "text");
        checkText(text);
        Encoding encoding = engine.encode(text, addSpecialTokens, false);
        long[] raw = encoding.getIds();
        int[] out = new int[raw.length];
        for (int i = 0; i < raw.length; i++) out[i] = Math.toIntExact(raw[i]);
        return out;
    }

    /**
     * Text of {@code ids} through the file's decoder, skipping special added tokens if asked. As in the
     * reference, ids that no token has (e.g. the padding rows of a model's embedding) are left out.
     */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        long[] raw = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0) throw new IllegalArgumentException("negative token id " + ids[i] + " at position " + i);
            raw[i] = ids[i];
        }
        return engine.decode(raw, skipSpecialTokens);
    }

    /** The token string of {@code id}, or null if no token has that id. */
    public String token(int id) {
        return id >= 0 && id < tokens.length ? tokens[id] : null;
    }

    /** The id of a token string (vocabulary or added token), or null. */
    public Integer id(String token) {
        return ids.get(token);
    }

    /** True for special added tokens (the ones {@code skipSpecialTokens} drops). */
    public boolean isSpecial(int id) {
        return id >= 0 && id < special.length && special[id];
    }

    /** One past the largest id (vocabulary plus added tokens). */
    public int size() {
        return tokens.length;
    }

    public List<AddedToken> addedTokens() {
        return addedTokens;
    }

    /** The "type" of the file's decoder ("ByteLevel", "Metaspace", ...), or null if it has none. */
    public String decoderType() {
        return decoderType;
    }

    /** Where the tokenizer came from, for messages. */
    public String source() {
        return source;
    }

    @Override
    public void close() {
        engine.close();
    }

    /** The engine cannot take unpaired surrogates (no valid UTF-8); say where instead of failing natively. */
    private static void checkText(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new IllegalArgumentException("text has an unpaired UTF-16 surrogate U+" + Integer.toHexString(c).toUpperCase()
                        + " at index " + i + " (not a valid Unicode string)");
            }
        }
    }
}
