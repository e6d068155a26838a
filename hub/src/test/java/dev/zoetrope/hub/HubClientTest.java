package dev.zoetrope.hub;

import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Weights;
import dev.zoetrope.core.testing.Fixtures;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Downloads from a local fake hub serving the tiny-sd fixture pipeline: cache layout, resume, hashes, errors. */
class HubClientTest {
    private static final String REPO = "zoetrope-test/tiny-sd";
    private static final String UNET = "unet/diffusion_pytorch_model.safetensors";

    @TempDir
    Path cacheDir;

    private FakeHub hub;
    private Path fixture;
    private FakeHub.Repo repo;

    @BeforeEach
    void startHub() throws IOException {
        hub = new FakeHub();
        fixture = Fixtures.modelDir("sd", "txt2img");
        // Beside the fixture pipeline, files a real repo has that a pipeline download must skip.
        repo = hub.addRepo(REPO, fixture, FakeHub.files(
                "unet/diffusion_pytorch_model.bin", "pickled weights",
                "unet/diffusion_pytorch_model.fp16.safetensors", "half-precision weights",
                "vae/diffusion_pytorch_model.fp16.safetensors", "half-precision vae",
                "v1-5-pruned-emaonly.ckpt", "single-file checkpoint",
                "README.md", "# model card",
                ".gitattributes", "*.safetensors filter=lfs"), false);
    }

    @AfterEach
    void stopHub() {
        hub.close();
    }

    private HubClient client(String token, boolean offline) {
        return new HubClient(new HubConfig(hub.endpoint(), cacheDir, token, offline, Duration.ofSeconds(10)));
    }

    private Path repoFolder() {
        return cacheDir.resolve("models--zoetrope-test--tiny-sd");
    }

    private byte[] fixtureBytes(String path) throws IOException {
        return Files.readAllBytes(fixture.resolve(path));
    }

    private List<String> fixtureFiles() throws IOException {
        List<String> files = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(fixture)) {
            walk.filter(Files::isRegularFile).forEach(p -> files.add(fixture.relativize(p).toString().replace('\\', '/')));
        }
        files.sort(null);
        return files;
    }

    @Test
    void pipelineLandsInTheStandardCacheLayout() throws IOException {
        List<DownloadProgress> events = new ArrayList<>();
        Snapshot snap;
        try (HubClient c = client(null, false)) {
            snap = c.download(RepoId.parse(REPO), null, FileSelection.model(), events::add);
        }
        assertEquals(repo.commit(), snap.commit());
        assertEquals(repoFolder().resolve("snapshots").resolve(repo.commit()), snap.dir());
        assertEquals(fixtureFiles(), snap.files(), "exactly the pipeline: no .bin, fp16, .ckpt, README or .gitattributes");
        for (String f : snap.files()) assertArrayEquals(fixtureBytes(f), Files.readAllBytes(snap.dir().resolve(f)), f);

        // snapshots/<commit>/<path> -> ../../(../)blobs/<etag>: sha256 for LFS files, git sha1 for the others.
        Path unet = snap.dir().resolve(UNET);
        assertTrue(Files.isSymbolicLink(unet));
        String sha256 = FakeHub.sha256(fixtureBytes(UNET));
        assertEquals(Path.of("..", "..", "..", "blobs", sha256), Files.readSymbolicLink(unet));
        Path config = snap.dir().resolve("unet/config.json");
        assertEquals(Path.of("..", "..", "..", "blobs", FakeHub.gitSha1(fixtureBytes("unet/config.json"))), Files.readSymbolicLink(config));
        assertEquals(Path.of("..", "..", "blobs", FakeHub.gitSha1(fixtureBytes("model_index.json"))),
                Files.readSymbolicLink(snap.dir().resolve("model_index.json")));
        assertEquals(repo.commit(), Files.readString(repoFolder().resolve("refs/main")));
        try (Stream<Path> blobs = Files.list(repoFolder().resolve("blobs"))) {
            assertTrue(blobs.noneMatch(p -> p.toString().endsWith(".incomplete")));
        }

        // The snapshot is a model directory the loaders open through the links.
        try (Weights w = Weights.open(snap.dir().resolve("unet")); Scope s = Scope.open()) {
            assertTrue(w.has("conv_in.weight"));
        }

        // Progress: whole-selection bytes never go back and end at the total.
        long last = -1;
        for (DownloadProgress p : events) {
            assertTrue(p.bytes() >= last, "monotonic");
            last = p.bytes();
        }
        DownloadProgress end = events.getLast();
        assertEquals(end.totalBytes(), end.bytes());
        assertEquals(snap.files().stream().mapToLong(f -> repo.files().get(f).length).sum(), end.totalBytes());

        // A second run finds everything cached: HEADs only, no body transferred.
        int before = hub.requestsFor("/cdn/").size();
        try (HubClient c = client(null, false)) {
            c.download(RepoId.parse(REPO), "main", FileSelection.model(), null);
        }
        assertEquals(before, hub.requestsFor("/cdn/").size());
    }

    @Test
    void variantComponentsAndPatterns() throws IOException {
        try (HubClient c = client(null, false)) {
            Snapshot fp16 = c.download(RepoId.parse(REPO), null, FileSelection.components(List.of("unet", "vae")).variant("fp16"), null);
            assertEquals(List.of("model_index.json", "unet/config.json", "unet/diffusion_pytorch_model.fp16.safetensors",
                    "vae/config.json", "vae/diffusion_pytorch_model.fp16.safetensors"), fp16.files());
            assertArrayEquals("half-precision weights".getBytes(StandardCharsets.UTF_8),
                    Files.readAllBytes(fp16.dir().resolve("unet/diffusion_pytorch_model.fp16.safetensors")));

            // No fp16 file for the text encoder: the plain weights, as diffusers falls back.
            Snapshot te = c.download(RepoId.parse(REPO), null, FileSelection.components(List.of("text_encoder")).variant("fp16"), null);
            assertTrue(te.files().contains("text_encoder/model.safetensors"), te.files().toString());

            Snapshot tok = c.download(RepoId.parse(REPO), null, FileSelection.patterns(List.of("tokenizer/*.json")), null);
            assertEquals(List.of("tokenizer/tokenizer.json", "tokenizer/tokenizer_config.json", "tokenizer/vocab.json"), tok.files());

            HubException e = assertThrows(HubException.class,
                    () -> c.download(RepoId.parse(REPO), null, FileSelection.components(List.of("safety_checker")), null));
            assertTrue(e.getMessage().contains("'safety_checker'") && e.getMessage().contains("unet"), e.getMessage());
        }
    }

    @Test
    void resumesAPartialDownloadWithRange() throws IOException {
        byte[] unet = fixtureBytes(UNET);
        String sha = FakeHub.sha256(unet);
        Path incomplete = repoFolder().resolve("blobs").resolve(sha + ".incomplete");
        Files.createDirectories(incomplete.getParent());
        Files.write(incomplete, java.util.Arrays.copyOf(unet, unet.length / 3));
        try (HubClient c = client(null, false)) {
            Snapshot s = c.download(RepoId.parse(REPO), null, FileSelection.patterns(List.of(UNET)), null);
            assertArrayEquals(unet, Files.readAllBytes(s.dir().resolve(UNET)));
        }
        List<FakeHub.Request> gets = hub.requestsFor("/cdn/" + sha);
        assertEquals(1, gets.size());
        assertEquals("bytes=" + unet.length / 3 + "-", gets.getFirst().range());
        assertFalse(Files.exists(incomplete));
    }

    @Test
    void resumesAfterTheConnectionDrops() throws IOException {
        byte[] unet = fixtureBytes(UNET);
        hub.dropOnceAfter.put(UNET, 1_000_000);
        try (HubClient c = client(null, false)) {
            Snapshot s = c.download(RepoId.parse(REPO), null, FileSelection.patterns(List.of("unet/")), null);
            assertArrayEquals(unet, Files.readAllBytes(s.dir().resolve(UNET)));
        }
        List<FakeHub.Request> gets = hub.requestsFor("/cdn/" + FakeHub.sha256(unet));
        assertEquals(2, gets.size(), gets.toString());
        assertNull(gets.get(0).range());
        // Resumed from what reached the disk before the cut (at most the 1,000,000 bytes sent).
        var range = java.util.regex.Pattern.compile("bytes=(\\d+)-").matcher(String.valueOf(gets.get(1).range()));
        assertTrue(range.matches(), gets.get(1).toString());
        long from = Long.parseLong(range.group(1));
        assertTrue(from > 0 && from <= 1_000_000, "resumed from " + from);
    }

    @Test
    void startsOverWhenTheServerIgnoresRange() throws IOException {
        byte[] unet = fixtureBytes(UNET);
        Path incomplete = repoFolder().resolve("blobs").resolve(FakeHub.sha256(unet) + ".incomplete");
        Files.createDirectories(incomplete.getParent());
        Files.write(incomplete, new byte[] {1, 2, 3, 4, 5}); // not even the right bytes
        hub.ignoreRange = true;
        try (HubClient c = client(null, false)) {
            Snapshot s = c.download(RepoId.parse(REPO), null, FileSelection.patterns(List.of(UNET)), null);
            assertArrayEquals(unet, Files.readAllBytes(s.dir().resolve(UNET)));
        }
    }

    @Test
    void hashMismatchIsAnErrorAndLeavesNothingBehind() throws IOException {
        hub.corrupt.add(UNET);
        hub.corrupt.add("unet/config.json");
        try (HubClient c = client(null, false)) {
            HubException e = assertThrows(HubException.class,
                    () -> c.download(RepoId.parse(REPO), null, FileSelection.patterns(List.of(UNET)), null));
            assertTrue(e.getMessage().contains(UNET) && e.getMessage().contains("sha256 mismatch"), e.getMessage());
            HubException git = assertThrows(HubException.class,
                    () -> c.download(RepoId.parse(REPO), null, FileSelection.patterns(List.of("unet/config.json")), null));
            assertTrue(git.getMessage().contains("git sha1 mismatch"), git.getMessage());
        }
        try (Stream<Path> blobs = Files.list(repoFolder().resolve("blobs"))) {
            assertEquals(List.of(), blobs.toList());
        }
        assertFalse(Files.exists(repoFolder().resolve("refs/main")), "no ref for a failed download");
    }

    @Test
    void offlineUsesTheCacheOnly() throws IOException {
        HubException missing = assertThrows(HubException.class,
                () -> client(null, true).download(RepoId.parse(REPO), null, FileSelection.model(), null));
        assertTrue(missing.getMessage().contains("not in the Hugging Face cache") && missing.getMessage().contains("HF_HUB_OFFLINE"),
                missing.getMessage());

        Snapshot online;
        try (HubClient c = client(null, false)) {
            online = c.download(RepoId.parse(REPO), null, FileSelection.model(), null);
        }
        int requests = hub.requests.size();
        try (HubClient c = client(null, true)) {
            Snapshot offline = c.download(RepoId.parse(REPO), null, FileSelection.model(), null);
            assertTrue(offline.fromCache());
            assertEquals(online.dir(), offline.dir());
            assertEquals(online.files(), offline.files());
            assertEquals(online.dir(), c.resolveModel(REPO, null, FileSelection.model(), null));
            // Asking offline for a variant or component the cache lacks says so.
            HubException e = assertThrows(HubException.class,
                    () -> c.download(RepoId.parse(REPO), null, FileSelection.components(List.of("unet", "image_encoder")), null));
            assertTrue(e.getMessage().contains("image_encoder"), e.getMessage());
        }
        assertEquals(requests, hub.requests.size(), "offline mode sent no request");
    }

    @Test
    void unreachableHubFallsBackToTheCacheOrExplains() throws IOException {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        HubConfig down = new HubConfig("http://127.0.0.1:" + closedPort, cacheDir, null, false, Duration.ofSeconds(5));
        try (HubClient c = new HubClient(down)) {
            HubException e = assertThrows(HubException.class, () -> c.download(RepoId.parse(REPO), null, FileSelection.model(), null));
            assertTrue(e.getMessage().contains("cannot reach http://127.0.0.1:" + closedPort) && e.getMessage().contains("not in the Hugging Face cache"),
                    e.getMessage());
        }
        try (HubClient c = client(null, false)) {
            c.download(RepoId.parse(REPO), null, FileSelection.model(), null);
        }
        try (HubClient c = new HubClient(down)) {
            assertTrue(c.download(RepoId.parse(REPO), null, FileSelection.model(), null).fromCache());
        }
    }

    @Test
    void clearErrorsForMissingRepoRevisionAndGatedAccess() throws IOException {
        try (HubClient c = client(null, false)) {
            HubException notFound = assertThrows(HubException.class,
                    () -> c.download(RepoId.parse("nobody/nothing"), null, FileSelection.model(), null));
            assertTrue(notFound.getMessage().contains("nobody/nothing not found") && notFound.getMessage().contains("HF_TOKEN"),
                    notFound.getMessage());
            HubException rev = assertThrows(HubException.class,
                    () -> c.download(RepoId.parse(REPO), "v9", FileSelection.model(), null));
            assertTrue(rev.getMessage().contains("revision 'v9' not found"), rev.getMessage());
        }

        hub.addRepo("gated-org/gated-model", null, FakeHub.files("config.json", "{}", "model.safetensors", "weights!"), true);
        RepoId gated = RepoId.parse("gated-org/gated-model");
        try (HubClient c = client(null, false)) {
            HubException e = assertThrows(HubException.class, () -> c.download(gated, null, FileSelection.model(), null));
            assertTrue(e.getMessage().contains("gated") && e.getMessage().contains("set HF_TOKEN"), e.getMessage());
        }
        try (HubClient c = client("hf_wrong", false)) {
            HubException e = assertThrows(HubException.class, () -> c.download(gated, null, FileSelection.model(), null));
            assertTrue(e.getMessage().contains("gated") && e.getMessage().contains("granted access"), e.getMessage());
        }
        hub.requests.clear();
        try (HubClient c = client("hf_secret", false)) {
            Snapshot s = c.download(gated, null, FileSelection.model(), null);
            assertEquals(List.of("config.json", "model.safetensors"), s.files());
        }
        // The token goes to the hub host only, never to the CDN host the LFS redirect points at.
        for (FakeHub.Request r : hub.requests) {
            boolean cdn = r.path().startsWith("/cdn/");
            assertEquals(!cdn, "Bearer hf_secret".equals(r.authorization()), r.toString());
            if (cdn) assertTrue(r.host().startsWith("localhost"), r.toString());
        }
    }

    @Test
    void tagsAndRenamedRepos() throws IOException {
        repo.tags().put("v1.0", repo.commit());
        hub.renamed.put("old-org/tiny-sd", REPO);
        try (HubClient c = client(null, false)) {
            Snapshot tagged = c.download(RepoId.parse(REPO), "v1.0", FileSelection.patterns(List.of("model_index.json")), null);
            assertEquals(repo.commit(), tagged.commit());
            assertEquals(repo.commit(), Files.readString(repoFolder().resolve("refs/v1.0")));

            Snapshot moved = c.download(RepoId.parse("old-org/tiny-sd"), null, FileSelection.patterns(List.of("unet/config.json")), null);
            assertArrayEquals(fixtureBytes("unet/config.json"), Files.readAllBytes(moved.dir().resolve("unet/config.json")));
            assertTrue(moved.dir().startsWith(cacheDir.resolve("models--old-org--tiny-sd")), "cached under the name asked for");
        }
    }

    @Test
    void modelArgumentIsALocalPathOrARepoId() throws IOException {
        try (HubClient c = client(null, false)) {
            assertEquals(fixture, c.resolveModel(fixture.toString(), null, FileSelection.model(), null));
            Path dir = c.resolveModel(REPO, null, FileSelection.model(), null);
            assertTrue(Files.isRegularFile(dir.resolve("model_index.json")));
            HubException e = assertThrows(HubException.class, () -> c.resolveModel("no such dir", null, FileSelection.model(), null));
            assertTrue(e.getMessage().contains("neither an existing file or directory nor a Hugging Face repo id"), e.getMessage());
        }
    }

    @Test
    void configFromEnvironment() throws IOException {
        Path home = cacheDir.resolve("home");
        HubConfig defaults = HubConfig.fromEnvironment(Map.of(), home);
        assertEquals("https://huggingface.co", defaults.endpoint());
        assertEquals(home.resolve(".cache/huggingface/hub"), defaults.cacheDir());
        assertNull(defaults.token());
        assertFalse(defaults.offline());

        assertEquals(Path.of("/x/huggingface/hub"), HubConfig.fromEnvironment(Map.of("XDG_CACHE_HOME", "/x"), home).cacheDir());
        assertEquals(Path.of("/h/hub"), HubConfig.fromEnvironment(Map.of("HF_HOME", "/h"), home).cacheDir());
        assertEquals(Path.of("/c"), HubConfig.fromEnvironment(Map.of("HF_HOME", "/h", "HF_HUB_CACHE", "/c"), home).cacheDir());
        assertEquals(home.resolve("c"), HubConfig.fromEnvironment(Map.of("HUGGINGFACE_HUB_CACHE", "~/c"), home).cacheDir());
        assertEquals("http://mirror:8080", HubConfig.fromEnvironment(Map.of("HF_ENDPOINT", "http://mirror:8080/"), home).endpoint());
        for (String yes : List.of("1", "on", "YES", "true")) assertTrue(HubConfig.fromEnvironment(Map.of("HF_HUB_OFFLINE", yes), home).offline());
        assertFalse(HubConfig.fromEnvironment(Map.of("HF_HUB_OFFLINE", "0"), home).offline());

        Path hfHome = Files.createDirectories(home.resolve(".cache/huggingface"));
        Files.writeString(hfHome.resolve("token"), "hf_from_file\n");
        assertEquals("hf_from_file", HubConfig.fromEnvironment(Map.of(), home).token());
        assertEquals("hf_env", HubConfig.fromEnvironment(Map.of("HF_TOKEN", "hf_env"), home).token());
        assertFalse(HubConfig.fromEnvironment(Map.of("HF_TOKEN", "hf_env"), home).toString().contains("hf_env"), "token not printed");
        assertThrows(IllegalArgumentException.class, () -> HubConfig.fromEnvironment(Map.of("HF_ENDPOINT", "ftp://x"), home));
    }
}
