package dev.zoetrope.diffusion.pipelines;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The fixture model folders as a real checkout has them. tiny-sd-inpaint shares tokenizer, text_encoder, vae and
 * scheduler with tiny-sd through relative symlinks; a checkout without symlink support (git core.symlinks=false)
 * leaves small text files holding the link target instead. The fixture README says to resolve them to the tiny-sd
 * folders: this builds a temporary folder of real symlinks for such a checkout (the folder itself otherwise).
 */
final class FixtureModels {
    private static final Map<Path, Path> RESOLVED = new HashMap<>();

    private FixtureModels() {
    }

    static synchronized Path dir(Path modelDir) {
        return RESOLVED.computeIfAbsent(modelDir, FixtureModels::resolve);
    }

    private static Path resolve(Path modelDir) {
        try (Stream<Path> entries = Files.list(modelDir)) {
            Map<Path, Path> targets = new HashMap<>();
            boolean placeholders = false;
            for (Path p : entries.toList()) {
                Path target = p;
                if (Files.isRegularFile(p) && !p.getFileName().toString().contains(".") && Files.size(p) < 256) {
                    Path linked = modelDir.resolve(Files.readString(p).trim()).normalize();
                    if (Files.isDirectory(linked)) {
                        target = linked;
                        placeholders = true;
                    }
                }
                targets.put(p.getFileName(), target.toAbsolutePath());
            }
            if (!placeholders) return modelDir;
            Path tmp = Files.createTempDirectory("zoetrope-" + modelDir.getFileName());
            tmp.toFile().deleteOnExit();
            for (Map.Entry<Path, Path> e : targets.entrySet()) {
                Path link = Files.createSymbolicLink(tmp.resolve(e.getKey()), e.getValue());
                link.toFile().deleteOnExit();
            }
            return tmp;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
