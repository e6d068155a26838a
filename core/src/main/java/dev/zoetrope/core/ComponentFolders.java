package dev.zoetrope.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * Component folders of a model checkout ({@code text_encoder/}, {@code vae/}, {@code scheduler/} ...). Repositories
 * that share a component between pipelines store it as a relative symbolic link ({@code vae -> ../tiny-sd/vae});
 * git without symlink support ({@code core.symlinks=false}, the default on Windows) checks such a link out as a
 * small text file holding the target path instead. {@link #resolve} follows both, so the checkout loads the same
 * either way.
 */
public final class ComponentFolders {
    /** A link file holds one relative path; anything larger is a real file. */
    private static final long MAX_LINK_FILE_BYTES = 4096;

    private ComponentFolders() {
    }

    /** {@code dir/component}, or the folder a link file stored under that name points to. */
    public static Path resolve(Path dir, String component) {
        return follow(dir.resolve(component));
    }

    /**
     * {@code path} itself, or — when it is a small regular file whose text is a path, relative to the file's folder,
     * of an existing directory — that directory.
     */
    public static Path follow(Path path) {
        try {
            if (Files.isRegularFile(path) && Files.size(path) < MAX_LINK_FILE_BYTES) {
                String target = Files.readString(path).strip();
                if (!target.isEmpty() && !target.contains("\n")) {
                    Path resolved = path.resolveSibling(target).normalize();
                    if (Files.isDirectory(resolved)) return resolved;
                }
            }
        } catch (IOException | InvalidPathException e) {
            // not a link file (binary, unreadable or not a path): the path as it is
        }
        return path;
    }
}
