package dev.zoetrope.models.nn;

import dev.zoetrope.core.CheckpointException;
import dev.zoetrope.core.Json;
import dev.zoetrope.core.Weights;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Reading component folders of a Hugging Face checkpoint: config files and weight files. */
public final class Configs {
    private Configs() {
    }

    /** Parses a JSON config file; a missing or malformed file is a {@link CheckpointException} naming it. */
    public static Json.Obj read(Path file) {
        if (!Files.isRegularFile(file)) throw new CheckpointException(file + ": config file not found");
        try {
            return Json.Obj.of(Json.parse(Files.readString(file)));
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read (" + e.getMessage() + ")", e);
        } catch (Json.JsonException e) {
            throw new CheckpointException(file + ": malformed JSON: " + e.getMessage());
        }
    }

    /**
     * Opens the weights of a component folder: {@code <baseName>.safetensors}, its sharded
     * {@code <baseName>.safetensors.index.json}, or else the folder's single safetensors file or index.
     * (A folder holding both full and {@code .fp16} variants is resolved to the full-precision file.)
     */
    public static Weights openWeights(Path dir, String baseName) {
        Path single = dir.resolve(baseName + ".safetensors");
        if (Files.isRegularFile(single)) return Weights.open(single);
        Path index = dir.resolve(baseName + ".safetensors.index.json");
        if (Files.isRegularFile(index)) return Weights.open(index);
        if (!Files.isDirectory(dir)) throw new CheckpointException(dir + ": model folder not found");
        return Weights.open(dir);
    }

    /**
     * A config value that may be a single integer (repeated {@code n} times) or a list of {@code n}; null or
     * absent gives {@code def} repeated.
     */
    public static int[] intsOrScalar(Json.Obj config, String key, int n, Integer def, String where) {
        Object v = config.raw(key);
        if (v == null) {
            if (def == null) throw new CheckpointException(where + ": \"" + key + "\" is required");
            int[] out = new int[n];
            Arrays.fill(out, def);
            return out;
        }
        if (v instanceof Number num) {
            int[] out = new int[n];
            Arrays.fill(out, num.intValue());
            return out;
        }
        if (v instanceof List<?> list) {
            if (list.size() != n) {
                throw new CheckpointException(where + ": \"" + key + "\" has " + list.size() + " entries, expected " + n
                        + " (one per block)");
            }
            int[] out = new int[n];
            for (int i = 0; i < n; i++) {
                if (!(list.get(i) instanceof Number num)) {
                    throw new CheckpointException(where + ": \"" + key + "\" entry " + i + " should be an integer, found "
                            + Json.typeName(list.get(i)));
                }
                out[i] = num.intValue();
            }
            return out;
        }
        throw new CheckpointException(where + ": \"" + key + "\" should be an integer or a list, found " + Json.typeName(v));
    }

    /** A boolean or a list of n booleans. */
    public static boolean[] boolsOrScalar(Json.Obj config, String key, int n, boolean def, String where) {
        Object v = config.raw(key);
        boolean[] out = new boolean[n];
        if (v == null) {
            Arrays.fill(out, def);
        } else if (v instanceof Boolean b) {
            Arrays.fill(out, b);
        } else if (v instanceof List<?> list && list.size() == n) {
            for (int i = 0; i < n; i++) {
                if (!(list.get(i) instanceof Boolean b)) {
                    throw new CheckpointException(where + ": \"" + key + "\" entry " + i + " should be true or false");
                }
                out[i] = b;
            }
        } else {
            throw new CheckpointException(where + ": \"" + key + "\" should be a boolean or a list of " + n + " booleans");
        }
        return out;
    }

    /** A list of strings that must be present. */
    public static List<String> strings(Json.Obj config, String key, List<String> def, String where) {
        try {
            List<String> out = config.strings(key, def);
            if (out == null) throw new CheckpointException(where + ": \"" + key + "\" is required");
            return new ArrayList<>(out);
        } catch (Json.JsonException e) {
            throw new CheckpointException(where + ": " + e.getMessage());
        }
    }
}
