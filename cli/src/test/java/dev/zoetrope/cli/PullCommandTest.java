package dev.zoetrope.cli;

import dev.zoetrope.core.testing.Fixtures;
import dev.zoetrope.hub.FakeHub;
import dev.zoetrope.hub.HubConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code zoe pull} against a local fake hub serving the tiny-sd fixture. */
class PullCommandTest {
    @TempDir
    Path cache;

    private static ZoeRun zoe(HubConfig config, String... args) {
        return ZoeRun.of(cl -> ZoeRun.<PullCommand>command(cl, "pull").config = config, args);
    }

    @Test
    void pullsAPipelineAndPrintsTheSnapshot() throws Exception {
        Path fixture = Fixtures.modelDir("sd", "txt2img");
        try (FakeHub hub = new FakeHub()) {
            FakeHub.Repo repo = hub.addRepo("zoetrope-test/tiny-sd", fixture,
                    FakeHub.files("unet/diffusion_pytorch_model.fp16.safetensors", "fp16 weights"), false);
            HubConfig config = new HubConfig(hub.endpoint(), cache, null, false, Duration.ofSeconds(10));

            ZoeRun run = zoe(config, "pull", "zoetrope-test/tiny-sd", "--variant", "fp16", "--component", "unet,scheduler");
            assertEquals(0, run.exit(), run.err());
            Path snapshot = Path.of(run.out().strip());
            assertEquals(cache.resolve("models--zoetrope-test--tiny-sd/snapshots").resolve(repo.commit()), snapshot);
            assertTrue(Files.isRegularFile(snapshot.resolve("unet/diffusion_pytorch_model.fp16.safetensors")));
            assertFalse(Files.exists(snapshot.resolve("unet/diffusion_pytorch_model.safetensors")));
            assertArrayEquals(Files.readAllBytes(fixture.resolve("scheduler/scheduler_config.json")),
                    Files.readAllBytes(snapshot.resolve("scheduler/scheduler_config.json")));
            assertFalse(Files.exists(snapshot.resolve("vae")));
            // Not a terminal here: one progress line per file, then the summary.
            assertTrue(run.err().contains("unet/diffusion_pytorch_model.fp16.safetensors"), run.err());
            assertTrue(run.err().contains("zoetrope-test/tiny-sd@" + repo.commit() + ", 4 files"), run.err());

            ZoeRun offline = zoe(config.withOffline(true), "pull", "zoetrope-test/tiny-sd", "--variant", "fp16", "--component", "unet,scheduler");
            assertEquals(0, offline.exit(), offline.err());
            assertTrue(offline.err().contains("cached (hub not contacted)"), offline.err());

            ZoeRun missing = zoe(config, "pull", "nobody/nothing");
            assertEquals(1, missing.exit());
            assertEquals(1, missing.err().strip().lines().count(), missing.err());
            assertTrue(missing.err().startsWith("zoe pull: repository nobody/nothing not found"), missing.err());

            ZoeRun bad = zoe(config, "pull", "not a repo");
            assertEquals(1, bad.exit());
            assertTrue(bad.err().contains("not a Hugging Face repo id"), bad.err());
        }
    }

    @Test
    void progressBarRendering() {
        assertEquals("[##############..............]  50%  1.0 MiB / 2.0 MiB", ProgressBar.render(0.5, "1.0 MiB / 2.0 MiB"));
        assertEquals("[............................]   0%", ProgressBar.render(Double.NaN, ""));
        assertEquals("[############################] 100%", ProgressBar.render(1.5, ""));
        assertEquals("1.5 KiB", ProgressBar.bytes(1536));
        StringWriter w = new StringWriter();
        ProgressBar bar = new ProgressBar(new PrintWriter(w), true);
        bar.update(0.25, "x", true);
        bar.finish();
        assertEquals("\r" + ProgressBar.render(0.25, "x") + System.lineSeparator(), w.toString());
    }
}
