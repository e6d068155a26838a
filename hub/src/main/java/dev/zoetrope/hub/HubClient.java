package dev.zoetrope.hub;

import dev.zoetrope.core.Json;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Downloads model repositories from the Hugging Face Hub (or a mirror at {@code HF_ENDPOINT}) into the
 * standard cache, as {@code huggingface_hub.snapshot_download} does, fetching only the selected files:
 * <ol>
 *   <li>{@code GET /api/models/{repo}[/revision/{rev}]}: the commit and the file list;</li>
 *   <li>per file {@code HEAD /{repo}/resolve/{commit}/{path}}, following only relative redirects (renamed
 *       repos): {@code X-Linked-Etag}/{@code ETag} (sha256 for LFS files, git sha1 otherwise),
 *       {@code X-Linked-Size}/{@code Content-Length}, and the CDN {@code Location} of LFS files;</li>
 *   <li>{@code GET} into {@code blobs/<etag>.incomplete}, resumed with {@code Range} from its length (also
 *       after a dropped connection), the token sent only to the endpoint's own host; then size and hash
 *       checked, the blob moved into place and linked from {@code snapshots/<commit>/<path>};</li>
 *   <li>{@code refs/<revision>} records the commit once every file is there.</li>
 * </ol>
 * Offline ({@code HF_HUB_OFFLINE}), or when the hub cannot be reached, the cached snapshot of the revision is
 * used; if there is none the error says so.
 *
 * <pre>{@code
 * try (HubClient hub = HubClient.fromEnvironment()) {      // HF_ENDPOINT, HF_HOME / HF_HUB_CACHE, HF_TOKEN, HF_HUB_OFFLINE
 *     Snapshot s = hub.download(RepoId.parse("stable-diffusion-v1-5/stable-diffusion-v1-5"), null,
 *             FileSelection.model().variant("fp16"), null);
 *     Path modelDir = s.dir();                               // snapshots/<commit>/ in the shared cache
 * }
 * }</pre>
 */
public final class HubClient implements AutoCloseable {
    private static final Pattern SAFE_ETAG = Pattern.compile("[A-Za-z0-9._-]{1,128}");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern GIT_SHA1 = Pattern.compile("[0-9a-f]{40}");
    private static final int MAX_REDIRECTS = 10;
    private static final int MAX_ATTEMPTS_WITHOUT_PROGRESS = 5;
    private static final Map<Path, Object> JVM_LOCKS = new ConcurrentHashMap<>();

    private final HubConfig config;
    private final HubCache cache;
    private final HttpClient http;
    private final String userAgent;

    public HubClient(HubConfig config) {
        this.config = config;
        this.cache = new HubCache(config.cacheDir());
        this.http = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NEVER) // redirects are followed by hand: the token must not leak
                .connectTimeout(config.timeout())
                .build();
        String version = Optional.ofNullable(HubClient.class.getPackage().getImplementationVersion()).orElse("dev");
        this.userAgent = "zoetrope/" + version + "; java/" + Runtime.version().feature();
    }

    public static HubClient fromEnvironment() {
        return new HubClient(HubConfig.fromEnvironment());
    }

    public HubConfig config() {
        return config;
    }

    public HubCache cache() {
        return cache;
    }

    /**
     * A model argument: an existing local path is returned as is; otherwise it must be a hub repo id, whose
     * selected files are downloaded (or found in the cache) and whose snapshot directory is returned.
     */
    public Path resolveModel(String model, String revision, FileSelection selection, DownloadListener listener)
            throws IOException {
        try {
            Path local = Path.of(model);
            if (Files.exists(local)) return local;
        } catch (InvalidPathException e) {
            // not a path on this system: maybe a repo id
        }
        if (!RepoId.looksLikeRepoId(model)) {
            throw new HubException("'" + model + "' is neither an existing file or directory nor a Hugging Face repo id (org/name)");
        }
        return download(RepoId.parse(model), revision, selection, listener).dir();
    }

    /** Downloads the selected files of {@code repo} at {@code revision} (null: main) and returns the snapshot. */
    public Snapshot download(RepoId repo, String revision, FileSelection selection, DownloadListener listener)
            throws IOException {
        String rev = revision == null || revision.isBlank() ? "main" : revision;
        DownloadListener progress = listener == null ? DownloadListener.NONE : listener;
        if (config.offline()) return fromCache(repo, rev, selection, "HF_HUB_OFFLINE is set", null);

        RepoListing listing;
        try {
            listing = listing(repo, rev);
        } catch (HubException e) {
            throw e;
        } catch (IOException e) { // connection refused, unknown host, timeout: the hub is out of reach
            return fromCache(repo, rev, selection, "cannot reach " + config.endpoint() + " (" + describe(e) + ")", e);
        }
        String commit = listing.commit();

        Json.Obj modelIndex = null;
        if (selection.needsModelIndex() && listing.files().contains("model_index.json")) {
            FileMeta meta = head(repo, commit, "model_index.json");
            fetch(repo, commit, meta, 0, 1, 0, meta.size(), DownloadListener.NONE);
            modelIndex = readJson(cache.pointer(repo, commit, "model_index.json"));
        }
        List<String> files;
        try {
            files = selection.select(listing.files(), modelIndex);
        } catch (IllegalArgumentException e) {
            throw new HubException(repo + "@" + rev + ": " + e.getMessage());
        }
        if (files.isEmpty()) throw new HubException(repo + "@" + rev + " has no files matching " + selection);

        List<FileMeta> metas = new ArrayList<>();
        long total = 0;
        for (String f : files) {
            FileMeta m = head(repo, commit, f);
            metas.add(m);
            total += m.size();
        }
        long done = 0;
        for (int i = 0; i < metas.size(); i++) {
            FileMeta m = metas.get(i);
            fetch(repo, commit, m, i, metas.size(), done, total, progress);
            done += m.size();
        }
        cache.writeRef(repo, rev, commit);
        return new Snapshot(repo, rev, commit, cache.snapshot(repo, commit), files, false);
    }

    @Override
    public void close() {
        http.close();
    }

    // ------------------------------------------------------------------ offline

    private Snapshot fromCache(RepoId repo, String revision, FileSelection selection, String reason, IOException cause)
            throws IOException {
        String commit = cache.commitFor(repo, revision);
        Path dir = commit == null ? null : cache.snapshot(repo, commit);
        if (dir == null || !Files.isDirectory(dir)) {
            throw new HubException(repo + " (revision " + revision + ") is not in the Hugging Face cache at "
                    + cache.repoFolder(repo) + ", and " + reason + "; download it once while online (zoe pull " + repo + ")", cause);
        }
        List<String> present = cache.listSnapshot(dir);
        Json.Obj modelIndex = present.contains("model_index.json") ? readJson(dir.resolve("model_index.json")) : null;
        List<String> files;
        try {
            files = selection.select(present, modelIndex);
        } catch (IllegalArgumentException e) {
            throw new HubException(repo + "@" + revision + " (cached at " + dir + "): " + e.getMessage(), cause);
        }
        if (modelIndex != null) {
            for (String folder : selection.componentFolders(modelIndex)) {
                if (files.stream().noneMatch(f -> f.startsWith(folder + "/"))) {
                    throw new HubException(repo + "@" + revision + ": component '" + folder + "' is missing from the cached snapshot "
                            + dir + ", and " + reason, cause);
                }
            }
        }
        if (files.isEmpty()) {
            throw new HubException(repo + "@" + revision + ": the cached snapshot " + dir + " has no files matching " + selection
                    + ", and " + reason, cause);
        }
        return new Snapshot(repo, revision, commit, dir, files, true);
    }

    // ------------------------------------------------------------------ the API call

    private record RepoListing(String commit, List<String> files) {
    }

    private RepoListing listing(RepoId repo, String revision) throws IOException {
        String url = config.endpoint() + "/api/models/" + repo.org() + "/" + repo.name()
                + (revision.equals("main") ? "" : "/revision/" + encode(revision, false));
        URI uri = URI.create(url);
        HttpResponse<byte[]> r = send(request(uri, true).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        for (int hop = 0; isRelativeRedirect(r) && hop < MAX_REDIRECTS; hop++) { // a renamed repo
            uri = uri.resolve(r.headers().firstValue("Location").orElseThrow());
            r = send(request(uri, true).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        }
        if (r.statusCode() != 200) throw httpError(r, repo, revision, null);
        Json.Obj info;
        try {
            info = Json.Obj.of(Json.parse(new String(r.body(), StandardCharsets.UTF_8)));
        } catch (RuntimeException e) {
            throw new HubException(url + " did not return a model description (" + e.getMessage() + ")");
        }
        String commit = info.string("sha", null);
        if (commit == null || !GIT_SHA1.matcher(commit).matches()) {
            throw new HubException(url + " returned no commit hash ('sha'): is " + config.endpoint() + " a Hugging Face hub?");
        }
        List<String> files = new ArrayList<>();
        for (Object sibling : info.list("siblings")) {
            String f = Json.Obj.of(sibling).string("rfilename", null);
            if (f == null) continue;
            checkRepoPath(f, url);
            files.add(f);
        }
        return new RepoListing(commit, files);
    }

    private static boolean isRelativeRedirect(HttpResponse<?> r) {
        if (r.statusCode() < 300 || r.statusCode() >= 400) return false;
        Optional<String> location = r.headers().firstValue("Location");
        return location.isPresent() && URI.create(location.get()).getHost() == null;
    }

    /** A repo path from the server must stay inside the snapshot folder. */
    private static void checkRepoPath(String path, String source) throws HubException {
        if (path.isEmpty() || path.startsWith("/") || path.contains("\\") || path.contains("\0")) {
            throw new HubException(source + " lists an invalid file name '" + path + "'");
        }
        for (String part : path.split("/", -1)) {
            if (part.isEmpty() || part.equals(".") || part.equals("..")) {
                throw new HubException(source + " lists an invalid file name '" + path + "'");
            }
        }
    }

    // ------------------------------------------------------------------ metadata (HEAD)

    private record FileMeta(String path, String etag, long size, URI downloadUrl) {
    }

    private FileMeta head(RepoId repo, String commit, String path) throws IOException {
        URI url = URI.create(config.endpoint() + "/" + repo + "/resolve/" + commit + "/" + encode(path, true));
        HttpResponse<Void> r;
        int relativeHops = 0;
        while (true) {
            HttpRequest req = request(url, sameHost(url)).method("HEAD", HttpRequest.BodyPublishers.noBody())
                    .header("Accept-Encoding", "identity").build();
            r = send(req, HttpResponse.BodyHandlers.discarding());
            int s = r.statusCode();
            if (s >= 300 && s < 400) {
                Optional<String> found = r.headers().firstValue("Location");
                if (found.isEmpty()) throw new HubException(url + " answered " + s + " without a Location");
                String location = found.get();
                if (URI.create(location).getHost() == null) { // relative: a renamed repo, ask again there
                    if (++relativeHops > MAX_REDIRECTS) throw new HubException(url + ": more than " + MAX_REDIRECTS + " redirects");
                    url = url.resolve(location);
                    continue;
                }
                break; // absolute: the CDN copy of an LFS file; its metadata is in this response
            }
            if (s != 200) throw httpError(r, repo, commit, path);
            break;
        }
        HttpHeaders h = r.headers();
        String etag = h.firstValue("X-Linked-Etag").or(() -> h.firstValue("ETag")).map(HubClient::normalizeEtag).orElse(null);
        String size = h.firstValue("X-Linked-Size").or(() -> h.firstValue("Content-Length")).orElse(null);
        if (etag == null || size == null) {
            throw new HubException(url + ": the server sent no " + (etag == null ? "ETag" : "size")
                    + " for " + path + " (is " + config.endpoint() + " a Hugging Face hub, or is a proxy in the way?)");
        }
        if (!SAFE_ETAG.matcher(etag).matches()) throw new HubException(url + ": unusable ETag '" + etag + "'");
        long bytes;
        try {
            bytes = Long.parseLong(size.strip());
        } catch (NumberFormatException e) {
            throw new HubException(url + ": bad size '" + size + "'");
        }
        if (bytes < 0) throw new HubException(url + ": bad size '" + size + "'");
        URI download = r.statusCode() >= 300 ? url.resolve(r.headers().firstValue("Location").get()) : url;
        return new FileMeta(path, etag, bytes, download);
    }

    /** huggingface_hub's _normalize_etag: drop a weak-validator prefix and the quotes. */
    static String normalizeEtag(String etag) {
        String e = etag.strip();
        if (e.startsWith("W/")) e = e.substring(2);
        if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) e = e.substring(1, e.length() - 1);
        return e;
    }

    // ------------------------------------------------------------------ fetching one file

    private void fetch(RepoId repo, String commit, FileMeta meta, int index, int count, long doneBefore, long total,
                       DownloadListener listener) throws IOException {
        Path pointer = cache.pointer(repo, commit, meta.path());
        Path blob = cache.blob(repo, meta.etag());
        if (Files.exists(pointer) && Files.size(pointer) == meta.size()) {
            listener.progress(new DownloadProgress(meta.path(), index, count, meta.size(), meta.size(), doneBefore + meta.size(), total));
            return;
        }
        Path lockFile = cache.lock(repo, meta.etag());
        Files.createDirectories(lockFile.getParent());
        synchronized (JVM_LOCKS.computeIfAbsent(lockFile.toAbsolutePath(), k -> new Object())) {
            try (FileChannel lockChannel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = lockChannel.lock()) {
                if (!(Files.isRegularFile(blob) && Files.size(blob) == meta.size())) {
                    downloadBlob(meta, cache.incomplete(repo, meta.etag()), blob,
                            received -> listener.progress(new DownloadProgress(meta.path(), index, count, received, meta.size(),
                                    doneBefore + received, total)));
                }
                cache.link(blob, pointer);
            }
        }
        listener.progress(new DownloadProgress(meta.path(), index, count, meta.size(), meta.size(), doneBefore + meta.size(), total));
    }

    private interface Received {
        void bytes(long received);
    }

    private void downloadBlob(FileMeta meta, Path incomplete, Path blob, Received progress) throws IOException {
        Files.createDirectories(incomplete.getParent());
        int failures = 0;
        while (true) {
            long have = Files.exists(incomplete) ? Files.size(incomplete) : 0;
            if (have > meta.size()) {
                Files.delete(incomplete);
                have = 0;
            }
            if (have == meta.size()) break;
            try {
                transfer(meta, incomplete, have, progress);
                break;
            } catch (HubException e) {
                throw e; // an answer from the server (404, 403, …): retrying will not help
            } catch (IOException e) {
                long now = Files.exists(incomplete) ? Files.size(incomplete) : 0;
                failures = now > have ? 1 : failures + 1; // progress resets the count, as huggingface_hub does
                if (failures >= MAX_ATTEMPTS_WITHOUT_PROGRESS) {
                    throw new HubException("downloading " + meta.path() + " from " + meta.downloadUrl().getHost() + " failed ("
                            + describe(e) + "); " + now + " of " + meta.size() + " bytes are kept in " + incomplete
                            + " and the next attempt resumes from there", e);
                }
                sleepQuietly(100L * failures);
            }
        }
        verify(meta, incomplete);
        Files.move(incomplete, blob, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** One GET from {@code have} bytes on; appends to {@code incomplete}. */
    private void transfer(FileMeta meta, Path incomplete, long have, Received progress) throws IOException {
        URI url = meta.downloadUrl();
        HttpResponse<InputStream> r = null;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpRequest.Builder b = request(url, sameHost(url)).GET().header("Accept-Encoding", "identity");
            if (have > 0) b.header("Range", "bytes=" + have + "-");
            r = send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            int s = r.statusCode();
            if (s >= 300 && s < 400 && r.headers().firstValue("Location").isPresent()) {
                r.body().close();
                url = url.resolve(r.headers().firstValue("Location").get());
                continue;
            }
            break;
        }
        int s = r.statusCode();
        try (InputStream in = r.body()) {
            boolean append;
            if (s == 206 && have > 0 && contentRangeStart(r.headers()) == have) {
                append = true;
            } else if (s == 200) {
                append = false; // the server ignored the range: start over
            } else if (s == 416 || s == 206) {
                Files.deleteIfExists(incomplete); // our partial file does not fit the server's: start over
                throw new IOException("range " + have + "- refused (HTTP " + s + ")");
            } else {
                throw httpErrorForFile(r, meta);
            }
            try (FileChannel out = FileChannel.open(incomplete, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
                long received = append ? have : 0;
                progress.bytes(received);
                byte[] buffer = new byte[1 << 20];
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    if (received + n > meta.size()) {
                        throw new HubException(meta.path() + ": the server sent more than the announced " + meta.size() + " bytes");
                    }
                    ByteBuffer bb = ByteBuffer.wrap(buffer, 0, n);
                    while (bb.hasRemaining()) out.write(bb);
                    received += n;
                    progress.bytes(received);
                }
                if (received != meta.size()) {
                    throw new IOException("connection closed after " + received + " of " + meta.size() + " bytes");
                }
            }
        }
    }

    private static long contentRangeStart(HttpHeaders h) {
        String range = h.firstValue("Content-Range").orElse("");
        var m = Pattern.compile("bytes (\\d+)-\\d+/(\\d+|\\*)").matcher(range.strip());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    /** Size, then the hash the ETag names: sha256 for LFS files, git's blob sha1 for the others. */
    private static void verify(FileMeta meta, Path file) throws IOException {
        long size = Files.size(file);
        if (size != meta.size()) {
            Files.deleteIfExists(file);
            throw new HubException(meta.path() + ": downloaded " + size + " bytes, the server announced " + meta.size());
        }
        String etag = meta.etag();
        String algorithm = SHA256.matcher(etag).matches() ? "SHA-256" : GIT_SHA1.matcher(etag).matches() ? "SHA-1" : null;
        if (algorithm == null) return; // not a content hash (some mirrors): the size check is all we can do
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        if (algorithm.equals("SHA-1")) digest.update(("blob " + size + "\0").getBytes(StandardCharsets.US_ASCII));
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 20];
            int n;
            while ((n = in.read(buffer)) >= 0) digest.update(buffer, 0, n);
        }
        String actual = HexFormat.of().formatHex(digest.digest());
        if (!actual.equals(etag)) {
            Files.deleteIfExists(file);
            throw new HubException(meta.path() + ": " + (algorithm.equals("SHA-256") ? "sha256" : "git sha1") + " mismatch (expected "
                    + etag + ", got " + actual + "); the corrupt download was deleted, run again to retry");
        }
    }

    // ------------------------------------------------------------------ HTTP helpers

    private HttpRequest.Builder request(URI url, boolean withToken) {
        HttpRequest.Builder b = HttpRequest.newBuilder(url).timeout(config.timeout()).header("User-Agent", userAgent);
        if (withToken && config.token() != null) b.header("Authorization", "Bearer " + config.token());
        return b;
    }

    private boolean sameHost(URI url) {
        return config.endpointAuthority().equalsIgnoreCase(String.valueOf(url.getAuthority()));
    }

    private <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler) throws IOException {
        try {
            return http.send(request, handler);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while talking to " + request.uri().getHost());
        }
    }

    private HubException httpError(HttpResponse<?> r, RepoId repo, String revision, String file) {
        String code = r.headers().firstValue("X-Error-Code").orElse("");
        String serverMessage = r.headers().firstValue("X-Error-Message").map(m -> " (" + m + ")").orElse("");
        int s = r.statusCode();
        String tokenHint = config.token() == null ? "set HF_TOKEN to a token that can read it" : "the token in use cannot read it";
        if (code.equals("GatedRepo")) {
            return new HubException(repo + " is gated: accept its conditions at " + config.endpoint() + "/" + repo
                    + " and " + (config.token() == null ? "set HF_TOKEN to a token of that account"
                    : "make sure the token in use belongs to an account that was granted access") + serverMessage);
        }
        if (code.equals("RevisionNotFound")) return new HubException("revision '" + revision + "' not found in " + repo + serverMessage);
        if (code.equals("EntryNotFound") || (s == 404 && file != null)) {
            return new HubException("file '" + file + "' not found in " + repo + " at " + revision + serverMessage);
        }
        if (code.equals("RepoNotFound") || s == 404) {
            return new HubException("repository " + repo + " not found on " + config.endpoint() + " (if it is private or gated, "
                    + tokenHint + ")" + serverMessage);
        }
        if (s == 401) return new HubException(repo + ": not authorized (" + tokenHint + ")" + serverMessage);
        if (s == 403) return new HubException(repo + ": access forbidden (" + tokenHint + ")" + serverMessage);
        if (s == 429) return new HubException(config.endpoint() + " is rate limiting requests; try again later" + serverMessage);
        if (s >= 500) return new HubException(config.endpoint() + " answered HTTP " + s + " for " + r.uri() + "; try again later" + serverMessage);
        return new HubException(r.uri() + " answered HTTP " + s + serverMessage);
    }

    private HubException httpErrorForFile(HttpResponse<?> r, FileMeta meta) {
        if (r.statusCode() == 403 || r.statusCode() == 404 || r.statusCode() == 410) {
            return new HubException(meta.path() + ": " + r.uri().getHost() + " answered HTTP " + r.statusCode()
                    + " for the download URL (expired link? run again)");
        }
        return new HubException(meta.path() + ": " + r.uri() + " answered HTTP " + r.statusCode());
    }

    /** Percent-encodes like Python's urllib quote: keeps letters, digits and _.-~ (and '/' when asked). */
    static String encode(String s, boolean keepSlash) {
        StringBuilder sb = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'
                    || c == '~' || (keepSlash && c == '/')) {
                sb.append((char) c);
            } else {
                sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            }
        }
        return sb.toString();
    }

    private static Json.Obj readJson(Path file) throws IOException {
        try {
            return Json.Obj.of(Json.parse(Files.readString(file)));
        } catch (RuntimeException e) {
            throw new HubException(file + ": malformed JSON (" + e.getMessage() + ")");
        }
    }

    private static String describe(IOException e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + m);
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
