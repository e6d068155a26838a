package dev.zoetrope.core.testing;

import dev.zoetrope.core.Json;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Locates the shared parity fixtures: {@code $ZOETROPE_FIXTURES} if set, else {@code ../shared/fixtures}
 * relative to the repository root (found by walking up from the working directory). Parity tests iterate
 * the cases a folder's {@code index.json} lists, so any folder of the same format can be checked.
 */
public final class Fixtures {
    private Fixtures() {
    }

    public static Path root() {
        String env = System.getenv("ZOETROPE_FIXTURES");
        if (env != null && !env.isBlank()) return Path.of(env).toAbsolutePath().normalize();
        Path dir = Path.of("").toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            Path candidate = d.resolveSibling("shared").resolve("fixtures");
            if (Files.isRegularFile(d.resolve("mvnw")) && Files.isDirectory(candidate)) return candidate.normalize();
        }
        for (Path d = dir; d != null; d = d.getParent()) {
            Path candidate = d.resolve("shared").resolve("fixtures");
            if (Files.isDirectory(candidate)) return candidate.normalize();
        }
        throw new IllegalStateException("parity fixtures not found: set ZOETROPE_FIXTURES or place them at ../shared/fixtures"
                + " beside the repository (working directory " + dir + ")");
    }

    /** A fixture folder such as "sd" or "internvl". */
    public static Path folder(String name) {
        Path p = root().resolve(name);
        if (!Files.isDirectory(p)) throw new IllegalStateException("fixture folder missing: " + p);
        return p;
    }

    public static Json.Obj json(Path file) {
        try {
            return Json.Obj.of(Json.parse(Files.readString(file)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One case listed in a folder's index.json. */
    public record Case(String name, String kind, Path folder, Json.Obj entry) {
        public Path tensors() {
            return folder.resolve(entry.string("tensors", "cases/" + name + ".safetensors"));
        }

        public Json.Obj manifest() {
            return json(folder.resolve(entry.string("manifest", "cases/" + name + ".json")));
        }

        public Path modelDir() {
            String dir = entry.string("model_dir", null);
            return dir == null ? null : folder.resolve(dir);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /**
     * The model folder ({@code model_dir}) of the first case of {@code kind} in a folder's index.json, e.g.
     * {@code modelDir("sd", "unet")} for the Stable Diffusion model the fixtures were made with. Tests that need
     * "the model" take it from here rather than naming the folder, so another fixture set may name it otherwise.
     */
    public static Path modelDir(String folderName, String kind) {
        for (Case c : cases(folderName, kind)) {
            if (c.modelDir() != null) return c.modelDir();
        }
        throw new IllegalStateException("no " + kind + " case with a model_dir in " + folder(folderName).resolve("index.json"));
    }

    /**
     * The one sub-folder of a fixture folder whose config.json lists {@code architecture} in "architectures", for
     * folders without an index.json (internvl).
     */
    public static Path modelDirByArchitecture(String folderName, String architecture) {
        Path folder = folder(folderName);
        List<Path> found = new ArrayList<>();
        try (var entries = Files.list(folder)) {
            for (Path dir : entries.sorted().toList()) {
                Path config = dir.resolve("config.json");
                if (Files.isRegularFile(config) && json(config).strings("architectures", List.of()).contains(architecture)) {
                    found.add(dir);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (found.size() != 1) {
            throw new IllegalStateException("expected one model folder with architectures [" + architecture + "] in " + folder
                    + ", found " + found);
        }
        return found.get(0);
    }

    /** The cases of a folder's index.json, optionally only those of one kind (null = all). */
    public static List<Case> cases(String folderName, String kind) {
        Path folder = folder(folderName);
        Json.Obj index = json(folder.resolve("index.json"));
        Json.Obj cases = index.obj("cases");
        List<Case> out = new ArrayList<>();
        for (Map.Entry<String, Object> e : cases.map().entrySet()) {
            Json.Obj entry = Json.Obj.of(e.getValue());
            String k = entry.string("kind", "");
            if (kind == null || kind.equals(k)) out.add(new Case(e.getKey(), k, folder, entry));
        }
        if (out.isEmpty()) throw new IllegalStateException("no cases of kind " + kind + " in " + folder.resolve("index.json"));
        return out;
    }
}
