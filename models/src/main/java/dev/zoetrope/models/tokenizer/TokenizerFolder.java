package dev.zoetrope.models.tokenizer;

import dev.zoetrope.core.Json;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The files of a Hugging Face tokenizer folder: {@code tokenizer.json} (may be absent, as in most Stable
 * Diffusion and InternVL2 repositories), {@code vocab.json} + {@code merges.txt}, and the transformers settings
 * in {@code tokenizer_config.json}, {@code special_tokens_map.json} and {@code added_tokens.json}.
 */
public final class TokenizerFolder {
    /** The named special tokens transformers knows, in its order. */
    static final List<String> NAMED_SPECIAL_KEYS =
            List.of("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token");

    private final Path dir;
    private final Json.Obj config;
    private final Map<String, AddedToken> named = new LinkedHashMap<>();
    private final List<AddedToken> additionalSpecial = new ArrayList<>();
    private final List<AddedToken> addedTokensDecoder = new ArrayList<>();
    private final Map<String, Integer> addedTokensFile = new LinkedHashMap<>();

    private TokenizerFolder(Path dir) {
        this.dir = dir;
        Path configFile = dir.resolve("tokenizer_config.json");
        this.config = Files.isRegularFile(configFile) ? readObject(configFile) : new Json.Obj(Map.of());
        readSpecialTokens(config, configFile.toString());
        // special_tokens_map.json wins over tokenizer_config.json, as in transformers' from_pretrained.
        Path mapFile = dir.resolve("special_tokens_map.json");
        if (Files.isRegularFile(mapFile)) readSpecialTokens(readObject(mapFile), mapFile.toString());
        Json.Obj decoder = config.obj("added_tokens_decoder");
        if (decoder != null) {
            for (Map.Entry<String, Object> e : decoder.map().entrySet()) {
                int id;
                try {
                    id = Integer.parseInt(e.getKey());
                } catch (NumberFormatException ex) {
                    throw new TokenizerException(configFile + ": added_tokens_decoder key '" + e.getKey() + "' is not an id");
                }
                addedTokensDecoder.add(AddedToken.fromConfig(e.getValue(), false, configFile.toString()).withId(id));
            }
        }
        Path addedFile = dir.resolve("added_tokens.json");
        if (Files.isRegularFile(addedFile)) {
            for (Map.Entry<String, Object> e : readObject(addedFile).map().entrySet()) {
                if (!(e.getValue() instanceof Long id) || id < 0 || id > Integer.MAX_VALUE) {
                    throw new TokenizerException(addedFile + ": id of '" + e.getKey() + "' should be a non-negative integer");
                }
                addedTokensFile.put(e.getKey(), id.intValue());
            }
        }
    }

    /** Reads the settings of a tokenizer folder; fails naming the folder if it is not one. */
    public static TokenizerFolder open(Path dir) {
        if (!Files.isDirectory(dir)) throw new TokenizerException("tokenizer folder not found: " + dir);
        boolean hasJson = Files.isRegularFile(dir.resolve("tokenizer.json"));
        boolean hasVocab = Files.isRegularFile(dir.resolve("vocab.json"));
        if (!hasJson && !hasVocab) {
            throw new TokenizerException(dir + ": no tokenizer.json and no vocab.json + merges.txt (is this a tokenizer folder?)");
        }
        return new TokenizerFolder(dir);
    }

    private void readSpecialTokens(Json.Obj obj, String where) {
        for (String key : NAMED_SPECIAL_KEYS) {
            if (obj.map().containsKey(key)) {
                AddedToken token = AddedToken.fromConfig(obj.map().get(key), true, where + " (" + key + ")");
                if (token == null) named.remove(key);
                else named.put(key, token);
            }
        }
        for (String key : List.of("additional_special_tokens", "extra_special_tokens")) {
            Object v = obj.raw(key);
            List<Object> items = v instanceof List<?> l ? new ArrayList<>(l)
                    : v instanceof Map<?, ?> m ? new ArrayList<>(m.values()) : List.of();
            for (Object item : items) {
                AddedToken token = AddedToken.fromConfig(item, true, where + " (" + key + ")");
                if (token != null && additionalSpecial.stream().noneMatch(t -> t.content().equals(token.content()))) {
                    additionalSpecial.add(token);
                }
            }
        }
    }

    public Path dir() {
        return dir;
    }

    /** tokenizer_config.json (empty if the folder has none). */
    public Json.Obj config() {
        return config;
    }

    /** The content of a named special token ("bos_token", "pad_token", ...), or {@code def} if not set. */
    public String special(String key, String def) {
        AddedToken t = named.get(key);
        return t == null ? def : t.content();
    }

    /** Named special tokens as configured (content and flags, no ids). */
    public Map<String, AddedToken> namedSpecialTokens() {
        return named;
    }

    public List<AddedToken> additionalSpecialTokens() {
        return additionalSpecial;
    }

    /** tokenizer_config.json's added_tokens_decoder entries, with their ids. */
    public List<AddedToken> addedTokensDecoder() {
        return addedTokensDecoder;
    }

    /** added_tokens.json (content to id), empty if absent. */
    public Map<String, Integer> addedTokensFile() {
        return addedTokensFile;
    }

    /** model_max_length; configs without a real limit store a huge float (1e30), which becomes {@code def}. */
    public int modelMaxLength(int def) {
        double v = config.doubleValue("model_max_length", def);
        return v >= 1 && v <= 1_000_000_000 ? (int) v : def;
    }

    /**
     * The folder's tokenizer handed to {@code wrapper}: from tokenizer.json when the folder has one, else from the
     * tokenizer.json {@code builder} writes out of vocab.json + merges.txt (null builder: tokenizer.json is required).
     * The tokenizer is closed again when the wrapper refuses it.
     */
    public <T> T load(Function<TokenizerFolder, Map<String, Object>> builder, Function<HfTokenizer, T> wrapper) {
        HfTokenizer tokenizer;
        if (hasTokenizerJson()) {
            tokenizer = HfTokenizer.load(tokenizerJsonFile());
        } else if (builder != null) {
            Map<String, Object> json = builder.apply(this);
            tokenizer = HfTokenizer.fromJson(TokenizerJsonBuilder.write(json), json, dir + " (vocab.json + merges.txt)");
        } else {
            throw new TokenizerException(dir + ": no tokenizer.json");
        }
        try {
            return wrapper.apply(tokenizer);
        } catch (RuntimeException e) {
            tokenizer.close();
            throw e;
        }
    }

    /**
     * The id of a named special token ("eos_token", ...): the configured one, else {@code def}; null when neither
     * names one. Fails naming the tokenizer when its vocabulary lacks the token.
     */
    public Integer specialTokenId(HfTokenizer tokenizer, String key, String def) {
        String token = special(key, def);
        if (token == null) return null;
        Integer id = tokenizer.id(token);
        if (id == null) throw new TokenizerException(tokenizer.source() + ": " + key + " '" + token + "' is not in the vocabulary");
        return id;
    }

    public boolean hasTokenizerJson() {
        return Files.isRegularFile(dir.resolve("tokenizer.json"));
    }

    public Path tokenizerJsonFile() {
        return dir.resolve("tokenizer.json");
    }

    /** tokenizer.json as text. */
    public String readTokenizerJson() {
        return readText(tokenizerJsonFile());
    }

    /** vocab.json: token to id. */
    public Map<String, Integer> readVocab() {
        Path file = dir.resolve("vocab.json");
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : readObject(file).map().entrySet()) {
            if (!(e.getValue() instanceof Long id) || id < 0 || id > Integer.MAX_VALUE) {
                throw new TokenizerException(file + ": id of token '" + e.getKey() + "' should be a non-negative integer, found "
                        + Json.write(e.getValue()));
            }
            vocab.put(e.getKey(), id.intValue());
        }
        return vocab;
    }

    /**
     * merges.txt: one merge "left right" per line in rank order. As the tokenizers library reads it, only a
     * leading "#version" line is a comment (Qwen2 has real merges such as "# #" and "#include"); blank lines
     * are skipped; CRLF endings are accepted.
     */
    public List<String[]> readMerges() {
        Path file = dir.resolve("merges.txt");
        String text = readText(file);
        List<String[]> merges = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.endsWith("\r")) line = line.substring(0, line.length() - 1);
            if (line.isEmpty() || (i == 0 && line.startsWith("#version"))) continue;
            int space = line.indexOf(' ');
            if (space <= 0 || space == line.length() - 1 || line.indexOf(' ', space + 1) >= 0) {
                throw new TokenizerException(file + ": line " + (i + 1) + " should be two symbols separated by one space, found '"
                        + line + "'");
            }
            merges.add(new String[] {line.substring(0, space), line.substring(space + 1)});
        }
        return merges;
    }

    Json.Obj readObject(Path file) {
        try {
            return Json.Obj.of(Json.parse(readText(file)));
        } catch (Json.JsonException e) {
            throw new TokenizerException(file + ": " + e.getMessage(), e);
        }
    }

    static String readText(Path file) {
        if (!Files.isRegularFile(file)) throw new TokenizerException("missing tokenizer file: " + file);
        try {
            byte[] bytes = Files.readAllBytes(file);
            String text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
            return text.startsWith("\uFEFF") ? text.substring(1) : text;
        } catch (CharacterCodingException e) {
            throw new TokenizerException(file + ": not valid UTF-8", e);
        } catch (IOException e) {
            throw new TokenizerException(file + ": cannot read: " + e.getMessage(), e);
        }
    }
}
