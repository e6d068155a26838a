package dev.zoetrope.hub;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The standard Hugging Face cache layout (shared with Python's huggingface_hub):
 * <pre>
 * &lt;cache&gt;/models--org--name/
 *     blobs/&lt;etag&gt;                       file contents, named by sha256 (LFS) or git sha1
 *     blobs/&lt;etag&gt;.incomplete            a download in progress (resumed from its length)
 *     snapshots/&lt;commit&gt;/&lt;path&gt;         relative symlinks to ../../blobs/&lt;etag&gt; (copies where symlinks fail)
 *     refs/&lt;revision&gt;                    the commit a branch or tag pointed to
 * &lt;cache&gt;/.locks/models--org--name/&lt;etag&gt;.lock
 * </pre>
 */
public final class HubCache {
    static final Pattern COMMIT_HASH = Pattern.compile("[0-9a-f]{40}");

    private final Path root;

    public HubCache(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    public Path repoFolder(RepoId repo) {
        return root.resolve(repo.cacheFolderName());
    }

    Path blob(RepoId repo, String etag) {
        return repoFolder(repo).resolve("blobs").resolve(etag);
    }

    Path incomplete(RepoId repo, String etag) {
        return repoFolder(repo).resolve("blobs").resolve(etag + ".incomplete");
    }

    Path lock(RepoId repo, String etag) {
        return root.resolve(".locks").resolve(repo.cacheFolderName()).resolve(etag + ".lock");
    }

    public Path snapshot(RepoId repo, String commit) {
        return repoFolder(repo).resolve("snapshots").resolve(commit);
    }

    /** The snapshot path of a repo file ({@code path} uses '/' as in the repo). */
    Path pointer(RepoId repo, String commit, String path) {
        Path p = snapshot(repo, commit);
        for (String part : path.split("/")) p = p.resolve(part);
        return p;
    }

    /** The commit a revision names: itself if it is a commit hash, else what refs/&lt;revision&gt; holds, else null. */
    public String commitFor(RepoId repo, String revision) throws IOException {
        if (COMMIT_HASH.matcher(revision).matches()) return revision;
        Path ref = refFile(repo, revision);
        if (!Files.isRegularFile(ref)) return null;
        String commit = Files.readString(ref, StandardCharsets.UTF_8).strip();
        return COMMIT_HASH.matcher(commit).matches() ? commit : null;
    }

    /** Records that {@code revision} (a branch or tag) points at {@code commit}; nothing for a commit hash. */
    void writeRef(RepoId repo, String revision, String commit) throws IOException {
        if (revision.equals(commit)) return;
        Path ref = refFile(repo, revision);
        if (Files.isRegularFile(ref) && Files.readString(ref, StandardCharsets.UTF_8).equals(commit)) return;
        Files.createDirectories(ref.getParent());
        Path tmp = Files.createTempFile(ref.getParent(), ".ref", ".tmp");
        Files.writeString(tmp, commit, StandardCharsets.UTF_8);
        Files.move(tmp, ref, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private Path refFile(RepoId repo, String revision) {
        Path p = repoFolder(repo).resolve("refs");
        for (String part : revision.split("/")) {
            if (part.isEmpty() || part.equals(".") || part.equals("..")) {
                throw new IllegalArgumentException("invalid revision '" + revision + "'");
            }
            p = p.resolve(part);
        }
        return p;
    }

    /**
     * Points the snapshot entry at the blob: a relative symlink ({@code ../../blobs/<etag>}, one more
     * {@code ..} per folder level), or a copy where the file system refuses symlinks.
     */
    void link(Path blob, Path pointer) throws IOException {
        Files.createDirectories(pointer.getParent());
        Files.deleteIfExists(pointer);
        Path target = pointer.getParent().relativize(blob);
        try {
            Files.createSymbolicLink(pointer, target);
        } catch (FileAlreadyExistsException e) {
            if (!Files.isSameFile(pointer, blob)) throw e; // a concurrent download linked the same blob
        } catch (UnsupportedOperationException | IOException e) {
            Files.copy(blob, pointer, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** The files of a cached snapshot, as repo paths with '/', skipping broken links. */
    List<String> listSnapshot(Path snapshot) throws IOException {
        List<String> files = new ArrayList<>();
        if (!Files.isDirectory(snapshot)) return files;
        try (Stream<Path> walk = Files.walk(snapshot)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) continue;
                if (!Files.exists(p)) continue; // dangling symlink: blob deleted
                files.add(snapshot.relativize(p).toString().replace('\\', '/'));
            }
        }
        files.sort(null);
        return files;
    }
}
