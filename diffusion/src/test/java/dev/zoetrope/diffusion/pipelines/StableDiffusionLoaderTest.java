package dev.zoetrope.diffusion.pipelines;

import dev.zoetrope.core.CheckpointException;
import dev.zoetrope.hub.FakeHub;
import dev.zoetrope.hub.HubClient;
import dev.zoetrope.hub.HubConfig;
import dev.zoetrope.models.testing.LdmFiles;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The other ways in: a single-file LDM checkpoint (the tiny model written under LDM names) and a hub repo id (a
 * local fake hub serving the tiny model) give the same images as the diffusers folder.
 */
class StableDiffusionLoaderTest {
    @TempDir
    static Path tmp;

    private static final Path TINY = SdFixtures.model();
    private static final GenerationSettings SETTINGS = GenerationSettings.of("a red robot").withNegativePrompt("blurry")
            .withSteps(2).withSeed(11L).withScheduler("ddim");
    private static Latents reference;

    @BeforeAll
    static void referenceRun() {
        try (StableDiffusion sd = StableDiffusion.load(TINY)) {
            reference = run(sd);
        }
    }

    private static Latents run(StableDiffusion sd) {
        return sd.txt2img(Txt2ImgRequest.of(SETTINGS).withSize(16, 16)).latents();
    }

    private static void assertSameRun(Latents actual) {
        // the same weights (zero-copy views under other names) and the same code: bit-identical
        assertEquals(reference, actual);
    }

    /**
     * A checkout without symlink support stores each shared component as a small text file holding the link's
     * target: the loader follows them (all five components linked here).
     */
    @Test
    void componentsStoredAsLinkFiles() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("linked"));
        Files.copy(TINY.resolve("model_index.json"), dir.resolve("model_index.json"));
        for (String component : StableDiffusionLoader.COMPONENTS) {
            Files.writeString(dir.resolve(component), dir.toAbsolutePath().relativize(TINY.toAbsolutePath().resolve(component)) + "\n");
        }
        try (StableDiffusion sd = StableDiffusion.load(dir)) {
            assertSameRun(run(sd));
        }
    }

    @Test
    void singleFileCheckpoint() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("single"));
        Path file = dir.resolve("tiny-sd-ldm.safetensors");
        LdmFiles.writeSd1(TINY, file);

        // a single file has no tokenizer: the error says where one is expected and which one fits
        CheckpointException e = assertThrows(CheckpointException.class, () -> StableDiffusion.load(file));
        assertTrue(e.getMessage().contains("carries no tokenizer")
                && e.getMessage().contains("stable-diffusion-v1-5/stable-diffusion-v1-5"), e.getMessage());

        // a config folder (diffusers' config=): tokenizer and configs from the diffusers folder
        try (StableDiffusion sd = StableDiffusionLoader.load(file, new StableDiffusionLoader.SingleFileOptions(TINY))) {
            assertEquals("tiny-sd-ldm", sd.name());
            assertEquals("DDIMScheduler", sd.schedulerConfig().type().className());
            assertSameRun(run(sd));
        }

        // the file's own folder with tokenizer/ and text_encoder/config.json (the tiny text encoder's 32-wide heads
        // cannot be inferred); no scheduler config there: the SD 1.5 one (PNDM)
        PipelineBehaviourTest.copyOf(TINY.resolve("tokenizer"), dir.resolve("tokenizer"));
        Files.createDirectories(dir.resolve("text_encoder"));
        Files.copy(TINY.resolve("text_encoder/config.json"), dir.resolve("text_encoder/config.json"));
        try (StableDiffusion sd = StableDiffusion.load(file)) {
            assertEquals("PNDMScheduler", sd.schedulerConfig().type().className());
            assertEquals(512, sd.defaultSize());
            ImageResult r = sd.txt2img(Txt2ImgRequest.of(SETTINGS.withScheduler("default")).withSize(16, 16));
            assertEquals("PLMS", r.sampler());
        }
    }

    @Test
    void hubRepoIds() throws IOException {
        Path file = tmp.resolve("loose-checkpoint.safetensors");
        LdmFiles.writeSd1(TINY, file);
        try (FakeHub hub = new FakeHub()) {
            hub.addRepo("zoetrope-test/tiny-sd", TINY, Map.of(), false);
            // the single file's reference repo (diffusers takes its tokenizer from there)
            hub.addRepo("stable-diffusion-v1-5/stable-diffusion-v1-5", TINY, Map.of(), false);
            HubConfig config = new HubConfig(hub.endpoint(), tmp.resolve("hf-cache"), null, false, Duration.ofSeconds(10));
            try (HubClient client = new HubClient(config)) {
                try (StableDiffusion sd = StableDiffusionLoader.fromPretrained("zoetrope-test/tiny-sd", client)) {
                    assertEquals("tiny-sd", sd.name(), "named after the repo, not the snapshot folder");
                    assertSameRun(run(sd));
                }
                Path snapshots = tmp.resolve("hf-cache/models--zoetrope-test--tiny-sd/snapshots");
                assertTrue(Files.isDirectory(snapshots), "downloaded into the standard cache layout");

                try (StableDiffusion sd = StableDiffusionLoader.fromPretrained(file.toString(), client, null, null,
                        null, null)) {
                    assertSameRun(run(sd));
                }
                assertFalse(hub.requestsFor("stable-diffusion-v1-5/stable-diffusion-v1-5/resolve").stream()
                        .anyMatch(r -> r.path().endsWith(".safetensors")), "only config files are fetched for a single file");

                CheckpointException e = assertThrows(CheckpointException.class, () -> StableDiffusionLoader.fromPretrained(
                        "nobody/nothing", client, null, null, null, null));
                assertTrue(e.getMessage().contains("nobody/nothing"), e.getMessage());
            }
        }
    }
}
