package dev.zoetrope.cli;

import dev.zoetrope.core.testing.Fixtures;
import dev.zoetrope.hub.FakeHub;
import dev.zoetrope.hub.HubConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

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

    private record Run(int exit, String out, String err) {
    }

    private Run zoe(HubConfig config, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Zoe.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        ((PullCommand) cl.getSubcommands().get("pull").getCommand()).config = config;
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void pullsAPipelineAndPrintsTheSnapshot() throws Exception {
        Path fixture = Fixtures.modelDir("sd", "txt2img");
        try (FakeHub hub = new FakeHub()) {
            FakeHub.Repo repo = hub.addRepo("zoetrope-test/tiny-sd", fixture,
                    FakeHub.files("unet/diffusion_pytorch_model.fp16.safetensors", "fp16 weights"), false);
            HubConfig config = new HubConfig(hub.endpoint(), cache, null, false, Duration.ofSeconds(10));

            Run run = zoe(config, "pull", "zoetrope-test/tiny-sd", "--variant", "fp16", "--component", "unet,scheduler");
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

            Run offline = zoe(config.withOffline(true), "pull", "zoetrope-test/tiny-sd", "--variant", "fp16", "--component", "unet,scheduler");
            assertEquals(0, offline.exit(), offline.err());
            assertTrue(offline.err().contains("cached (hub not contacted)"), offline.err());

            Run missing = zoe(config, "pull", "nobody/nothing");
            assertEquals(1, missing.exit());
            assertEquals(1, missing.err().strip().lines().count(), missing.err());
            assertTrue(missing.err().startsWith("zoe pull: repository nobody/nothing not found"), missing.err());

            Run bad = zoe(config, "pull", "not a repo");
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
