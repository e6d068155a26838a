package dev.zoetrope.models.tokenizer;

import dev.zoetrope.core.Json;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A token matched in the raw text before normalisation and never split (tokenizers' AddedToken), e.g. CLIP's
 * {@code <|startoftext|>} or InternVL's {@code <IMG_CONTEXT>}. {@code id} is null until it is known.
 */
public record AddedToken(String content, Integer id, boolean special, boolean normalized, boolean lstrip,
                         boolean rstrip, boolean singleWord) {

    /** A special token as transformers adds the named ones (bos, eos, pad, ...): special, not normalized. */
    public static AddedToken special(String content) {
        return new AddedToken(content, null, true, false, false, false, false);
    }

    public AddedToken withId(int newId) {
        return new AddedToken(content, newId, special, normalized, lstrip, rstrip, singleWord);
    }

    /**
     * Reads a token as tokenizer_config.json / special_tokens_map.json write it: a plain string, or an object
     * with "content" and the flags. Flags missing from the object take transformers' AddedToken defaults
     * (normalized = not special). Returns null for a JSON null.
     */
    static AddedToken fromConfig(Object value, boolean special, String where) {
        if (value == null || value == Json.NULL) return null;
        if (value instanceof String s) return new AddedToken(s, null, special, !special, false, false, false);
        if (value instanceof Map<?, ?>) {
            Json.Obj o = Json.Obj.of(value);
            String content = o.string("content", null);
            if (content == null) throw new TokenizerException(where + ": token object without \"content\": " + Json.write(value));
            boolean isSpecial = o.bool("special", special);
            return new AddedToken(content, null, isSpecial, o.bool("normalized", !isSpecial), o.bool("lstrip", false),
                    o.bool("rstrip", false), o.bool("single_word", false));
        }
        throw new TokenizerException(where + ": expected a token string or object, found " + Json.write(value));
    }

    /** The entry of tokenizer.json's "added_tokens" list. */
    Map<String, Object> toTokenizerJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("content", content);
        m.put("single_word", singleWord);
        m.put("lstrip", lstrip);
        m.put("rstrip", rstrip);
        m.put("normalized", normalized);
        m.put("special", special);
        return m;
    }
}
