package dev.zoetrope.models.tokenizer;

import dev.zoetrope.core.Json;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a tokenizer.json (the tokenizers library's serialisation) from {@code vocab.json} + {@code merges.txt}
 * for folders that ship without one, with the same pipeline transformers' slow-to-fast converters
 * ({@code CLIPConverter}, {@code Qwen2Converter}) and the transformers 5 tokenizer classes construct, plus the
 * added/special tokens of the folder's configuration.
 */
final class TokenizerJsonBuilder {
    /** transformers' CLIP pre-tokenizer pattern (split on it, keep the matches, drop the rest). */
    static final String CLIP_PATTERN =
            "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";
    /** transformers' Qwen2 PRETOKENIZE_REGEX (matches are isolated pieces). */
    static final String QWEN2_PATTERN =
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private TokenizerJsonBuilder() {
    }

    /**
     * CLIP: NFC, whitespace runs to one space, lowercase; split on {@link #CLIP_PATTERN} dropping whitespace;
     * byte-level; BPE with "</w>" on the last symbol of a word; RobertaProcessing with bos/eos.
     */
    static Map<String, Object> clip(TokenizerFolder folder) {
        Map<String, Integer> vocab = folder.readVocab();
        List<String[]> merges = folder.readMerges();
        String bos = folder.special("bos_token", "<|startoftext|>");
        String eos = folder.special("eos_token", "<|endoftext|>");
        String unk = folder.special("unk_token", "<|endoftext|>");
        List<AddedToken> added = addedTokens(folder, vocab);
        Map<String, Integer> ids = idsOf(vocab, added);

        Map<String, Object> json = header(added);
        json.put("normalizer", sequence("normalizers", List.of(
                obj("type", "NFC"),
                obj("type", "Replace", "pattern", obj("Regex", "\\s+"), "content", " "),
                obj("type", "Lowercase"))));
        json.put("pre_tokenizer", sequence("pretokenizers", List.of(
                obj("type", "Split", "pattern", obj("Regex", CLIP_PATTERN), "behavior", "Removed", "invert", true),
                byteLevel("ByteLevel", false, true, true))));
        json.put("post_processor", obj("type", "RobertaProcessing",
                "sep", List.of(eos, requireId(ids, eos, folder, "eos_token")),
                "cls", List.of(bos, requireId(ids, bos, folder, "bos_token")),
                "trim_offsets", false, "add_prefix_space", false));
        json.put("decoder", byteLevel("ByteLevel", true, true, true));
        json.put("model", bpe(vocab, merges, unk, "", "</w>"));
        return json;
    }

    /** Qwen2: NFC; isolate {@link #QWEN2_PATTERN} pieces; byte-level without its own regex; BPE without unk. */
    static Map<String, Object> qwen2(TokenizerFolder folder) {
        Map<String, Integer> vocab = folder.readVocab();
        List<String[]> merges = folder.readMerges();
        List<AddedToken> added = addedTokens(folder, vocab);

        Map<String, Object> json = header(added);
        json.put("normalizer", obj("type", "NFC"));
        json.put("pre_tokenizer", sequence("pretokenizers", List.of(
                obj("type", "Split", "pattern", obj("Regex", QWEN2_PATTERN), "behavior", "Isolated", "invert", false),
                byteLevel("ByteLevel", false, false, false))));
        json.put("post_processor", byteLevel("ByteLevel", false, false, false));
        json.put("decoder", byteLevel("ByteLevel", false, false, false));
        json.put("model", bpe(vocab, merges, null, null, null));
        return json;
    }

    /**
     * The folder's added tokens with ids, in id order: tokenizer_config.json's added_tokens_decoder, then
     * added_tokens.json, then the named and additional special tokens not listed there (as transformers adds
     * them). A token without an id takes its vocabulary id, else the next free id. The ids must be the ones the
     * tokenizers library will assign when it loads the result (vocabulary id, else one past the largest so far).
     */
    static List<AddedToken> addedTokens(TokenizerFolder folder, Map<String, Integer> vocab) {
        java.util.Set<String> specialContents = new java.util.HashSet<>();
        folder.namedSpecialTokens().values().forEach(t -> specialContents.add(t.content()));
        folder.additionalSpecialTokens().forEach(t -> specialContents.add(t.content()));

        Map<String, AddedToken> byContent = new LinkedHashMap<>();
        for (AddedToken t : folder.addedTokensDecoder()) byContent.putIfAbsent(t.content(), t);
        for (Map.Entry<String, Integer> e : folder.addedTokensFile().entrySet()) {
            boolean special = specialContents.contains(e.getKey());
            byContent.putIfAbsent(e.getKey(), new AddedToken(e.getKey(), e.getValue(), special, !special, false, false, false));
        }
        List<AddedToken> named = new ArrayList<>(folder.namedSpecialTokens().values());
        named.addAll(folder.additionalSpecialTokens());
        for (AddedToken t : named) {
            AddedToken existing = byContent.get(t.content());
            if (existing == null) byContent.put(t.content(), t);
            else if (!existing.special()) { // a named special token is special whatever the other files say
                byContent.put(t.content(), new AddedToken(existing.content(), existing.id(), true, existing.normalized(),
                        existing.lstrip(), existing.rstrip(), existing.singleWord()));
            }
        }

        List<AddedToken> withIds = new ArrayList<>();
        List<AddedToken> withoutIds = new ArrayList<>();
        for (AddedToken t : byContent.values()) {
            Integer vocabId = vocab.get(t.content());
            if (t.id() != null && vocabId != null && !t.id().equals(vocabId)) {
                throw new TokenizerException(folder.dir() + ": added token '" + t.content() + "' has id " + t.id()
                        + " in the configuration but id " + vocabId + " in vocab.json");
            }
            if (t.id() == null && vocabId != null) t = t.withId(vocabId);
            (t.id() != null ? withIds : withoutIds).add(t);
        }
        withIds.sort(Comparator.comparingInt(AddedToken::id));

        // Replay the tokenizers library's id assignment to be sure the ids will come out as configured.
        int vocabSize = vocab.size();
        int maxAdded = -1;
        List<AddedToken> out = new ArrayList<>();
        Map<Integer, String> taken = new HashMap<>();
        List<AddedToken> ordered = new ArrayList<>(withIds);
        ordered.addAll(withoutIds);
        for (AddedToken t : ordered) {
            Integer vocabId = vocab.get(t.content());
            int assigned = vocabId != null ? vocabId : (maxAdded >= vocabSize ? maxAdded + 1 : vocabSize);
            if (t.id() != null && t.id() != assigned) {
                throw new TokenizerException(folder.dir() + ": added token '" + t.content() + "' should have id " + t.id()
                        + " but would get id " + assigned + " (added tokens outside vocab.json must follow it without gaps)");
            }
            String other = taken.put(assigned, t.content());
            if (other != null) {
                throw new TokenizerException(folder.dir() + ": tokens '" + other + "' and '" + t.content() + "' share id " + assigned);
            }
            maxAdded = Math.max(maxAdded, assigned);
            out.add(t.withId(assigned));
        }
        return out;
    }

    private static Map<String, Integer> idsOf(Map<String, Integer> vocab, List<AddedToken> added) {
        Map<String, Integer> ids = new HashMap<>(vocab);
        for (AddedToken t : added) ids.put(t.content(), t.id());
        return ids;
    }

    private static int requireId(Map<String, Integer> ids, String token, TokenizerFolder folder, String role) {
        Integer id = ids.get(token);
        if (id == null) throw new TokenizerException(folder.dir() + ": " + role + " '" + token + "' is not in vocab.json");
        return id;
    }

    private static Map<String, Object> header(List<AddedToken> added) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("version", "1.0");
        json.put("truncation", null);
        json.put("padding", null);
        List<Object> list = new ArrayList<>();
        for (AddedToken t : added) list.add(t.toTokenizerJson());
        json.put("added_tokens", list);
        return json;
    }

    private static Map<String, Object> bpe(Map<String, Integer> vocab, List<String[]> merges, String unk,
                                           String continuingSubwordPrefix, String endOfWordSuffix) {
        List<Object> mergeList = new ArrayList<>(merges.size());
        for (String[] m : merges) mergeList.add(List.of(m[0], m[1]));
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "BPE");
        model.put("dropout", null);
        model.put("unk_token", unk);
        model.put("continuing_subword_prefix", continuingSubwordPrefix);
        model.put("end_of_word_suffix", endOfWordSuffix);
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        model.put("vocab", new LinkedHashMap<>(vocab));
        model.put("merges", mergeList);
        return model;
    }

    private static Map<String, Object> byteLevel(String type, boolean addPrefixSpace, boolean trimOffsets, boolean useRegex) {
        return obj("type", type, "add_prefix_space", addPrefixSpace, "trim_offsets", trimOffsets, "use_regex", useRegex);
    }

    private static Map<String, Object> sequence(String key, List<Object> items) {
        return obj("type", "Sequence", key, items);
    }

    private static Map<String, Object> obj(Object... keyValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) m.put((String) keyValues[i], keyValues[i + 1]);
        return m;
    }

    static String write(Map<String, Object> json) {
        return Json.write(json);
    }
}
