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

    /** Fills a temporary file with {@code writer} and moves it over {@code target}. */
    public static void write(Path target, Writer writer) throws IOException {
        Pending pending = begin(target);
        try {
            writer.writeTo(pending.temporary());
            pending.commit();
        } finally {
            pending.abort();
        }
    }

    /** Creates the temporary file for {@code target}; the caller fills it, then commits or aborts. */
    public static Pending begin(Path target) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        if (dir == null) throw new IOException("no directory for output file " + target);
        if (!Files.isDirectory(dir)) throw new IOException("output directory does not exist: " + dir + " (writing " + target + ")");
        String name = absolute.getFileName().toString();
        // Keep the extension last: some writers (FFmpeg) pick the container from it.
        int dot = name.lastIndexOf('.');
        String suffix = dot > 0 ? name.substring(dot) : ".tmp";
        String prefix = "." + (dot > 0 ? name.substring(0, dot) : name) + ".partial-";
        Path tmp;
        try {
            tmp = createFile(dir, prefix, suffix);
        } catch (IOException e) {
            throw new IOException("cannot create files in " + dir + reason(e), e);
        }
        return new Pending(absolute, tmp);
    }

    /**
     * A new empty file with a random name. Unlike {@code Files.createTempFile} (owner-only access) it gets the
     * permissions any new file gets (the umask's), so the finished output is as readable as a file written in place.
     */
    private static Path createFile(Path dir, String prefix, String suffix) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path candidate = dir.resolve(prefix + Long.toUnsignedString(RANDOM.nextLong(), 36) + suffix);
            try {
                return Files.createFile(candidate);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                if (attempt >= 100) throw e;
            }
        }
    }

    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

    /**
     * Fails as {@link #write} would when {@code target}'s folder takes no new files (missing, read-only, a special
     * file system), without touching {@code target}: lets a long job refuse before it starts.
     */
    public static void checkWritable(Path target) throws IOException {
        begin(target).abort();
    }

    /** " (permission denied)", " (Read-only file system)" ... or "" when the exception says nothing more useful. */
    private static String reason(IOException e) {
        if (e instanceof java.nio.file.AccessDeniedException) return " (permission denied)";
        if (e instanceof java.nio.file.FileSystemException f) return f.getReason() != null ? " (" + f.getReason() + ")" : "";
        return e.getMessage() != null ? " (" + e.getMessage() + ")" : "";
    }

    /** A temporary file waiting to replace its target. */
    public static final class Pending {
        private final Path target;
        private final Path temporary;
        private boolean finished;

        private Pending(Path target, Path temporary) {
            this.target = target;
            this.temporary = temporary;
        }

        public Path temporary() {
            return temporary;
        }

        public Path target() {
            return target;
        }

        /**
         * Moves the temporary file over the target (atomically where the file system can); a target that existed keeps
         * its POSIX permissions.
         */
        public void commit() throws IOException {
            if (finished) throw new IllegalStateException("already " + (Files.exists(temporary) ? "aborted" : "committed") + ": " + target);
            keepPermissions();
            try {
                Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
            }
            finished = true;
        }

        private void keepPermissions() {
            try {
                if (Files.isRegularFile(target)) Files.setPosixFilePermissions(temporary, Files.getPosixFilePermissions(target));
            } catch (IOException | UnsupportedOperationException e) {
                // not a POSIX file system, or not ours to read: the new file keeps its default permissions
            }
        }

        /** Deletes the temporary file unless committed; safe to call more than once. */
        public void abort() throws IOException {
            if (finished) return;
            finished = true;
            Files.deleteIfExists(temporary);
        }
    }
}
