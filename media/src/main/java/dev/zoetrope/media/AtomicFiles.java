package dev.zoetrope.media;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes a file so that readers never see it half-written: the content goes to a temporary file in the
 * target's directory (same file system, so the final move is a rename), which then replaces the target.
 * On any failure the temporary file is deleted and the target is left as it was.
 */
public final class AtomicFiles {
    private AtomicFiles() {
    }

    /** Receives the temporary path to fill. */
    @FunctionalInterface
    public interface Writer {
        void writeTo(Path temporary) throws IOException;
    }

    public static void write(Path target, Writer writer) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        if (dir == null) throw new IOException("no directory for output file " + target);
        if (!Files.isDirectory(dir)) throw new IOException("output directory does not exist: " + dir + " (writing " + target + ")");
        String name = absolute.getFileName().toString();
        // Keep the extension last: some writers (FFmpeg) pick the container from it.
        int dot = name.lastIndexOf('.');
        String suffix = dot > 0 ? name.substring(dot) : ".tmp";
        Path tmp = Files.createTempFile(dir, "." + (dot > 0 ? name.substring(0, dot) : name) + ".partial-", suffix);
        boolean done = false;
        try {
            writer.writeTo(tmp);
            try {
                Files.move(tmp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, absolute, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
        } finally {
            if (!done) Files.deleteIfExists(tmp);
        }
    }
}
