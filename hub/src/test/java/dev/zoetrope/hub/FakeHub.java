package dev.zoetrope.hub;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.zoetrope.core.Json;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

/**
 * A local stand-in for huggingface.co, speaking the hub's URL layout and headers: {@code /api/models/...},
 * {@code /{repo}/resolve/{rev}/{path}} (regular files: 200 with the git sha1 ETag; LFS files — .safetensors
 * and .bin — a 302 to an absolute CDN URL with {@code X-Linked-Etag}/{@code X-Linked-Size}), and
 * {@code /cdn/{sha256}} serving bytes with Range support. The CDN URLs use the host name "localhost" while the
 * endpoint is "127.0.0.1", so they count as another host (the token must not be sent there). Knobs let tests
 * break things: ignore ranges, drop a connection, serve corrupt bytes, gate a repo, rename a repo.
 */
public final class FakeHub implements AutoCloseable {
    public record Repo(String commit, Map<String, byte[]> files, Map<String, String> tags, boolean gated) {
    }

    public record Request(String method, String path, String range, String authorization, String host) {
    }

    final HttpServer server;
    final Map<String, Repo> repos = new ConcurrentHashMap<>();
    final Map<String, String> renamed = new ConcurrentHashMap<>();
    final List<Request> requests = new CopyOnWriteArrayList<>();
    final Set<String> corrupt = ConcurrentHashMap.newKeySet();
    final Map<String, Integer> dropOnceAfter = new ConcurrentHashMap<>();
    volatile boolean ignoreRange;
    volatile String acceptedToken = "hf_secret";
    private final Map<String, byte[]> blobsBySha = new ConcurrentHashMap<>();

    public FakeHub() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    public String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** Serves every file under {@code dir} as repo {@code id}, plus {@code extra} synthetic files. */
    public Repo addRepo(String id, Path dir, Map<String, byte[]> extra, boolean gated) throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        if (dir != null) {
            try (Stream<Path> walk = Files.walk(dir)) {
                for (Path p : (Iterable<Path>) walk::iterator) {
                    if (Files.isRegularFile(p)) files.put(dir.relativize(p).toString().replace('\\', '/'), Files.readAllBytes(p));
                }
            }
        }
        files.putAll(extra);
        String commit = sha1((id + files.keySet()).getBytes(StandardCharsets.UTF_8));
        Repo repo = new Repo(commit, files, new ConcurrentHashMap<>(), gated);
        repos.put(id, repo);
        for (byte[] content : files.values()) blobsBySha.put(sha256(content), content);
        return repo;
    }

    static boolean isLfs(String path) {
        return path.endsWith(".safetensors") || path.endsWith(".bin");
    }

    public static String sha256(byte[] data) {
        return digest("SHA-256", data, null);
    }

    static String gitSha1(byte[] data) {
        return digest("SHA-1", data, ("blob " + data.length + "\0").getBytes(StandardCharsets.US_ASCII));
    }

    private static String sha1(byte[] data) {
        return digest("SHA-1", data, null);
    }

    private static String digest(String algorithm, byte[] data, byte[] prefix) {
        try {
            MessageDigest d = MessageDigest.getInstance(algorithm);
            if (prefix != null) d.update(prefix);
            return HexFormat.of().formatHex(d.digest(data));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public List<Request> requestsFor(String pathPart) {
        List<Request> out = new ArrayList<>();
        for (Request r : requests) if (r.path().contains(pathPart)) out.add(r);
        return out;
    }

    // ------------------------------------------------------------------ request handling

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getRawPath();
        requests.add(new Request(ex.getRequestMethod(), path, ex.getRequestHeaders().getFirst("Range"),
                ex.getRequestHeaders().getFirst("Authorization"), ex.getRequestHeaders().getFirst("Host")));
        try {
            if (path.startsWith("/api/models/")) api(ex, path.substring("/api/models/".length()));
            else if (path.startsWith("/cdn/")) cdn(ex, path.substring("/cdn/".length()));
            else resolve(ex, path.substring(1));
        } catch (RuntimeException e) {
            send(ex, 500, Map.of(), new byte[0]);
        } finally {
            ex.close();
        }
    }

    private void api(HttpExchange ex, String rest) throws IOException {
        String[] parts = rest.split("/", 3);
        if (parts.length < 2) {
            send(ex, 404, Map.of(), new byte[0]);
            return;
        }
        String id = parts[0] + "/" + parts[1];
        if (renamed.containsKey(id)) {
            send(ex, 307, Map.of("Location", "/api/models/" + renamed.get(id) + (parts.length > 2 ? "/" + parts[2] : "")), new byte[0]);
            return;
        }
        Repo repo = repos.get(id);
        if (repo == null) {
            send(ex, 401, Map.of("X-Error-Code", "RepoNotFound", "X-Error-Message", "Repository not found"), new byte[0]);
            return;
        }
        String revision = "main";
        if (parts.length > 2) {
            if (!parts[2].startsWith("revision/")) {
                send(ex, 404, Map.of(), new byte[0]);
                return;
            }
            revision = java.net.URLDecoder.decode(parts[2].substring("revision/".length()), StandardCharsets.UTF_8);
        }
        if (commitOf(repo, revision) == null) {
            send(ex, 404, Map.of("X-Error-Code", "RevisionNotFound", "X-Error-Message", "Invalid rev id: " + revision), new byte[0]);
            return;
        }
        List<Object> siblings = new ArrayList<>();
        for (String f : repo.files().keySet()) siblings.add(new LinkedHashMap<>(Map.of("rfilename", f)));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("id", id);
        body.put("sha", repo.commit());
        body.put("siblings", siblings);
        send(ex, 200, Map.of("Content-Type", "application/json"), Json.write(body).getBytes(StandardCharsets.UTF_8));
    }

    private static String commitOf(Repo repo, String revision) {
        if (revision.equals("main") || revision.equals(repo.commit())) return repo.commit();
        return repo.tags().get(revision);
    }

    private void resolve(HttpExchange ex, String rest) throws IOException {
        String[] parts = rest.split("/", 5); // org, name, "resolve", rev, path
        if (parts.length < 5 || !parts[2].equals("resolve")) {
            send(ex, 404, Map.of(), new byte[0]);
            return;
        }
        String id = parts[0] + "/" + parts[1];
        if (renamed.containsKey(id)) {
            send(ex, 307, Map.of("Location", "/" + renamed.get(id) + "/resolve/" + parts[3] + "/" + parts[4]), new byte[0]);
            return;
        }
        Repo repo = repos.get(id);
        if (repo == null) {
            send(ex, 401, Map.of("X-Error-Code", "RepoNotFound"), new byte[0]);
            return;
        }
        if (repo.gated()) {
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            if (auth == null) {
                send(ex, 401, Map.of("X-Error-Code", "GatedRepo", "X-Error-Message", "Access to model " + id + " is restricted."), new byte[0]);
                return;
            }
            if (!auth.equals("Bearer " + acceptedToken)) {
                send(ex, 403, Map.of("X-Error-Code", "GatedRepo", "X-Error-Message", "Your request to access " + id + " is awaiting review."), new byte[0]);
                return;
            }
        }
        String commit = commitOf(repo, java.net.URLDecoder.decode(parts[3], StandardCharsets.UTF_8));
        if (commit == null) {
            send(ex, 404, Map.of("X-Error-Code", "RevisionNotFound"), new byte[0]);
            return;
        }
        String file = java.net.URLDecoder.decode(parts[4], StandardCharsets.UTF_8);
        byte[] content = repo.files().get(file);
        if (content == null) {
            send(ex, 404, Map.of("X-Error-Code", "EntryNotFound", "X-Repo-Commit", commit), new byte[0]);
            return;
        }
        if (isLfs(file)) {
            String sha = sha256(content);
            Map<String, String> h = new LinkedHashMap<>();
            h.put("Location", "http://localhost:" + server.getAddress().getPort() + "/cdn/" + sha + "?signature=x");
            h.put("X-Linked-Etag", "\"" + sha + "\"");
            h.put("X-Linked-Size", String.valueOf(content.length));
            h.put("X-Repo-Commit", commit);
            h.put("ETag", "\"" + gitSha1(("version https://git-lfs.github.com/spec/v1\noid sha256:" + sha).getBytes(StandardCharsets.UTF_8)) + "\"");
            send(ex, 302, h, new byte[0]);
            return;
        }
        Map<String, String> h = new LinkedHashMap<>();
        h.put("ETag", "W/\"" + gitSha1(content) + "\"");
        h.put("X-Repo-Commit", commit);
        if (ex.getRequestMethod().equals("HEAD")) {
            h.put("Content-Length", String.valueOf(content.length));
            send(ex, 200, h, null);
        } else {
            send(ex, 200, h, corrupt.contains(file) ? flipped(content) : content);
        }
    }

    private void cdn(HttpExchange ex, String rest) throws IOException {
        String sha = rest.contains("?") ? rest.substring(0, rest.indexOf('?')) : rest;
        byte[] content = blobsBySha.get(sha);
        if (content == null) {
            send(ex, 404, Map.of(), new byte[0]);
            return;
        }
        String file = null;
        for (Repo r : repos.values()) {
            for (Map.Entry<String, byte[]> e : r.files().entrySet()) if (e.getValue() == content) file = e.getKey();
        }
        if (file != null && corrupt.contains(file)) content = flipped(content);
        long start = 0;
        String range = ex.getRequestHeaders().getFirst("Range");
        Map<String, String> h = new LinkedHashMap<>();
        int status = 200;
        if (range != null && !ignoreRange) {
            start = Long.parseLong(range.substring("bytes=".length(), range.indexOf('-')));
            if (start >= content.length) {
                send(ex, 416, Map.of("Content-Range", "bytes */" + content.length), new byte[0]);
                return;
            }
            status = 206;
            h.put("Content-Range", "bytes " + start + "-" + (content.length - 1) + "/" + content.length);
        }
        byte[] body = java.util.Arrays.copyOfRange(content, (int) start, content.length);
        Integer drop = file == null ? null : dropOnceAfter.remove(file);
        if (drop != null && drop < body.length) {
            ex.sendResponseHeaders(status, body.length);
            OutputStream out = ex.getResponseBody();
            out.write(body, 0, drop);
            out.flush();
            // Closing before the announced length is written cuts the connection mid-body.
            return;
        }
        send(ex, status, h, body);
    }

    private static byte[] flipped(byte[] content) {
        byte[] copy = content.clone();
        copy[copy.length / 2] ^= 0x55;
        return copy;
    }

    private static void send(HttpExchange ex, int status, Map<String, String> headers, byte[] body) throws IOException {
        headers.forEach((k, v) -> ex.getResponseHeaders().add(k, v));
        if (body == null) { // HEAD: headers only, Content-Length set by the caller
            ex.sendResponseHeaders(status, -1);
            return;
        }
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }

    public static Map<String, byte[]> files(Object... pathsAndContents) {
        Map<String, byte[]> m = new LinkedHashMap<>();
        for (int i = 0; i < pathsAndContents.length; i += 2) {
            Object c = pathsAndContents[i + 1];
            m.put((String) pathsAndContents[i], c instanceof byte[] b ? b : ((String) c).getBytes(StandardCharsets.UTF_8));
        }
        return Collections.unmodifiableMap(m);
    }
}
