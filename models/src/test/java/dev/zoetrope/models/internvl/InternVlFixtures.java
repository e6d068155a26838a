package dev.zoetrope.models.internvl;

import dev.zoetrope.core.Json;
import dev.zoetrope.core.testing.Fixtures;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The InternVL fixture folder has no index.json: its cases are the {@code cases/*.json} files, each either
 * naming its {@code kind} ("chat", "batch_chat") or recognisable by its structure as the folder's README
 * describes (vision: an InternViT input case and extract_feature; llm: input ids and logits).
 */
public final class InternVlFixtures {
    private InternVlFixtures() {
    }

    public record Case(String name, String kind, Path json, Json.Obj manifest) {
        public Path tensors() {
            return json.resolveSibling(name + ".safetensors");
        }

        @Override
        public String toString() {
            return name;
        }
    }

    public static Path folder() {
        return Fixtures.folder("internvl");
    }

    /** The checkpoint folder: the one whose config.json names InternVLChatModel. */
    public static Path modelDir() {
        return Fixtures.modelDirByArchitecture("internvl", "InternVLChatModel");
    }

    /** summary.json: sizes, special token ids, the weight table. */
    public static Json.Obj summary() {
        return Fixtures.json(folder().resolve("summary.json"));
    }

    /** Every case of the given kind; fails when there is none (never skips). */
    public static List<Case> cases(String kind) {
        Path dir = folder().resolve("cases");
        List<Case> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.sorted().toList()) {
                if (!p.getFileName().toString().endsWith(".json")) continue;
                Json.Obj m = Fixtures.json(p);
                String k = kindOf(m);
                if (kind.equals(k)) {
                    String file = p.getFileName().toString();
                    out.add(new Case(m.string("name", file.substring(0, file.length() - 5)), k, p, m));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (out.isEmpty()) throw new IllegalStateException("no InternVL fixture case of kind " + kind + " in " + dir);
        return out;
    }

    static String kindOf(Json.Obj m) {
        String kind = m.string("kind", null);
        if (kind != null) return kind;
        Json.Obj tensors = m.obj("tensors");
        if (m.has("input_preprocess_case") && tensors != null && tensors.has("extract_feature")) return "vision";
        if (m.has("input_ids") && tensors != null && tensors.has("logits")) return "llm";
        return "other";
    }
}
