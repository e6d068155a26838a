package dev.zoetrope.cli;

import dev.zoetrope.core.SafeTensors;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.testing.Fixtures;
import dev.zoetrope.hub.FakeHub;
import dev.zoetrope.hub.HubConfig;
import dev.zoetrope.media.ImageTensors;
import dev.zoetrope.media.Images;
import dev.zoetrope.models.testing.LdmFiles;
import dev.zoetrope.media.RgbImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code zoe txt2img | img2img | inpaint} run in-process on the tiny fixture model (16–32 px, 2 steps): the PNGs
 * exist, carry the A1111 parameters, and bad input ends in one line on stderr with a non-zero exit code.
 */
class GenerationCommandsTest {
    @TempDir
    Path tmp;

    private static final Path MODEL_DIR = Fixtures.modelDir("sd", "txt2img");
    private static final String MODEL = MODEL_DIR.toString();
    private static final String MODEL_NAME = MODEL_DIR.getFileName().toString();

    /** The first inpaint case's image and mask, written as PNGs into the test's folder: {image, mask}. */
    private String[] inpaintInputs() {
        Fixtures.Case c = Fixtures.cases("sd", "inpaint").get(0);
        Path image = tmp.resolve("input-image.png"), mask = tmp.resolve("input-mask.png");
        try (Scope s = Scope.open(); SafeTensors data = SafeTensors.open(c.tensors())) {
            Images.writePng(ImageTensors.fromUint8Tensor(data.get("init_image_uint8")), image);
            Images.writePng(ImageTensors.fromUint8Tensor(data.get("mask_uint8")), mask);
        }
        return new String[] {image.toString(), mask.toString()};
    }

    /** The latent shape [batch, channels, height/f, width/f] of a run on the fixture model. */
    private static int[] latentShape(int batch, int width, int height) {
        try (var vae = dev.zoetrope.models.vae.AutoencoderKL.load(MODEL_DIR.resolve("vae"))) {
            int f = vae.config().scaleFactor();
            return new int[] {batch, vae.config().latentChannels(), height / f, width / f};
        }
    }

    static ZoeRun zoe(String... args) {
        return ZoeRun.of(args);
    }

    private static void assertOneLineError(ZoeRun r, String... fragments) {
        r.assertOneLineError(fragments);
    }

    @Test
    void txt2imgWritesPngsWithTheirParameters() {
        Path out = tmp.resolve("robot.png");
        ZoeRun r = zoe("txt2img", "--model", MODEL, "--prompt", "a red robot", "-n", "blurry", "--steps", "2",
                "--width", "16", "--height", "24", "--seed", "42", "--scheduler", "euler-a", "--output", out.toString());
        assertEquals(0, r.exit(), r.err());
        RgbImage image = Images.read(out);
        assertEquals(16, image.width());
        assertEquals(24, image.height());
        String parameters = Images.readPngText(out).get(Images.PARAMETERS_KEY);
        assertEquals("a red robot\nNegative prompt: blurry\nSteps: 2, Sampler: Euler a, CFG scale: 7.5, Seed: 42, "
                + "Size: 16x24, Model: " + MODEL_NAME + ", Version: zoetrope", parameters);
        assertTrue(r.out().contains("wrote " + out), r.out());
        assertNoTemporaryFiles();
    }

    @Test
    void batchesAreNumberedAndARandomSeedIsPrinted() {
        ZoeRun r = zoe("txt2img", "-m", MODEL, "-p", "a red robot", "--steps", "1", "-W", "16", "-H", "16", "--batch", "2",
                "-o", tmp.resolve("b.png").toString(), "--quiet");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().startsWith("seed "), r.err());
        String seed = r.err().lines().findFirst().orElseThrow().substring("seed ".length());
        for (int i = 1; i <= 2; i++) {
            Path file = tmp.resolve("b-" + i + ".png");
            String parameters = Images.readPngText(file).get(Images.PARAMETERS_KEY);
            assertTrue(parameters.contains("Seed: " + seed + ",") && parameters.contains("Batch pos: " + (i - 1)), parameters);
        }
        ZoeRun pattern = zoe("txt2img", "-m", MODEL, "-p", "x", "--steps", "1", "-W", "16", "-H", "16", "-b", "2", "-s", "9",
                "-o", tmp.resolve("img_{seed}_{n}.png").toString());
        assertEquals(0, pattern.exit(), pattern.err());
        assertTrue(Files.isRegularFile(tmp.resolve("img_9_1.png")) && Files.isRegularFile(tmp.resolve("img_9_2.png")));
    }

    @Test
    void img2imgAndInpaintWritePngs() {
        String[] inputs = inpaintInputs();
        String imagePng = inputs[0], maskPng = inputs[1];
        Path a = tmp.resolve("i2i.png");
        ZoeRun r = zoe("img2img", "-m", MODEL, "-p", "a red robot", "--image", imagePng, "--strength", "0.5", "--steps", "2",
                "-W", "32", "-H", "16", "-s", "3", "-o", a.toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals(32, Images.read(a).width());
        assertTrue(Images.readPngText(a).get(Images.PARAMETERS_KEY).contains("Denoising strength: 0.5"));

        Path b = tmp.resolve("inpaint.png");
        r = zoe("inpaint", "-m", MODEL, "-p", "a red robot", "--image", imagePng, "--mask", maskPng, "--steps", "2",
                "-W", "32", "-H", "24", "-s", "3", "--blend", "before-step", "-o", b.toString());
        assertEquals(0, r.exit(), r.err());
        RgbImage out = Images.read(b);
        assertEquals(32, out.width());
        assertEquals(24, out.height());
        assertTrue(Images.readPngText(b).get(Images.PARAMETERS_KEY).contains("Denoising strength: 1.0"));
    }

    @Test
    void hubRepoIdsAndSingleFileCheckpoints() throws IOException {
        try (FakeHub hub = new FakeHub()) {
            hub.addRepo("zoetrope-test/tiny-sd", MODEL_DIR, Map.of(), false);
            HubConfig config = new HubConfig(hub.endpoint(), tmp.resolve("hf-cache"), null, false, Duration.ofSeconds(10));
            Path png = tmp.resolve("hub.png");
            ZoeRun run = ZoeRun.of(cl -> ZoeRun.<GenerationCommand>command(cl, "txt2img").hubConfig = config,
                    "txt2img", "-m", "zoetrope-test/tiny-sd", "-p", "x", "--steps", "1", "-W", "16", "-H", "16",
                    "-s", "1", "-o", png.toString());
            assertEquals(0, run.exit(), run.err());
            // the repo's name, not the snapshot's commit folder
            assertTrue(Images.readPngText(png).get(Images.PARAMETERS_KEY).contains("Model: tiny-sd,"), "parameters written");
            assertTrue(Files.isDirectory(tmp.resolve("hf-cache/models--zoetrope-test--tiny-sd/snapshots")));
        }

        Path file = tmp.resolve("tiny-sd.safetensors");
        LdmFiles.writeSd1(MODEL_DIR, file);
        Path png = tmp.resolve("single.png");
        ZoeRun r = zoe("txt2img", "-m", file.toString(), "--config", MODEL, "-p", "x", "--steps", "1", "-W", "16", "-H", "16",
                "-s", "1", "-o", png.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(Images.readPngText(png).get(Images.PARAMETERS_KEY).contains("Model: tiny-sd,"));
    }

    @Test
    void aMaskOfAnotherSizeIsResizedWithAWarning() throws IOException {
        String[] inputs = inpaintInputs();
        String imagePng = inputs[0], maskPng = inputs[1];
        RgbImage mask = Images.read(Path.of(maskPng));
        Path small = tmp.resolve("small-mask.png");
        Images.writePng(mask.crop(0, 0, mask.width() / 2, mask.height() / 2), small);
        ZoeRun r = zoe("inpaint", "-m", MODEL, "-p", "x", "--image", imagePng, "--mask", small.toString(), "--steps", "1",
                "-W", "16", "-H", "16", "-s", "1", "-o", tmp.resolve("m.png").toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().contains("warning: the mask is " + mask.width() / 2 + "x" + mask.height() / 2), r.err());
        assertTrue(Files.isRegularFile(tmp.resolve("m.png")));
    }

    @Test
    void aLongPromptIsTruncatedWithAWarning() {
        String prompt = "a red robot " + "painting ".repeat(80) + "zebra";
        ZoeRun r = zoe("txt2img", "-m", MODEL, "-p", prompt, "--steps", "1", "-W", "16", "-H", "16", "-s", "1",
                "-o", tmp.resolve("long.png").toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().contains("warning: the prompt is longer than CLIP's 77 tokens") && r.err().contains("zebra"), r.err());
    }

    @Test
    void initNoiseFromASafetensorsFile() throws IOException {
        Path noise = tmp.resolve("noise.safetensors");
        int[] shape = latentShape(2, 16, 16);
        float[] values = new float[(int) Tensor.numel(shape)];
        for (int i = 0; i < values.length; i++) values[i] = (float) Math.cos(i * 0.37);
        try (Scope s = Scope.open()) {
            SafeTensors.write(noise, Map.of("whatever", Tensor.of(values, shape)), Map.of());
        }
        ZoeRun r = zoe("txt2img", "-m", MODEL, "-p", "x", "--steps", "1", "-W", "16", "-H", "16", "-b", "2",
                "--init-noise", noise.toString(), "-o", tmp.resolve("n.png").toString());
        assertEquals(0, r.exit(), r.err());
        ZoeRun bad = zoe("txt2img", "-m", MODEL, "-p", "x", "--steps", "1", "-W", "16", "-H", "32", "-b", "2",
                "--init-noise", noise.toString(), "-o", tmp.resolve("n.png").toString());
        assertOneLineError(bad, "initial latents have shape " + java.util.Arrays.toString(shape) + ", expected "
                + java.util.Arrays.toString(latentShape(2, 16, 32)));
    }

    @Test
    void badInputIsOneLine() throws IOException {
        String[] inputs = inpaintInputs();
        String imagePng = inputs[0];
        String out = tmp.resolve("x.png").toString();
        assertOneLineError(zoe("txt2img", "-m", MODEL, "-p", "x", "--scheduler", "heun", "-o", out),
                "unknown scheduler \"heun\"", "ddim, pndm, euler, euler-a, dpmpp-2m, dpmpp-2m-karras, lms");
        assertOneLineError(zoe("txt2img", "-m", MODEL, "-p", "x", "--width", "100", "-o", out),
                "--width must be a positive multiple of 8, got 100");
        assertOneLineError(zoe("img2img", "-m", MODEL, "-p", "x", "--image", tmp.resolve("missing.png").toString(), "-o", out),
                "image file not found", "missing.png");
        Path notAnImage = tmp.resolve("notes.png");
        Files.writeString(notAnImage, "not an image");
        assertOneLineError(zoe("inpaint", "-m", MODEL, "-p", "x", "--image", imagePng, "--mask", notAnImage.toString(), "-o", out),
                "notes.png");
        assertOneLineError(zoe("txt2img", "-m", tmp.resolve("no-model").toString(), "-p", "x", "-o", out), "no-model");
        assertOneLineError(zoe("txt2img", "-m", MODEL, "-p", "x", "-o", tmp.resolve("x.jpg").toString()), ".png");
        assertOneLineError(zoe("img2img", "-m", MODEL, "-p", "x", "--image", imagePng, "--strength", "0.01", "-o", out),
                "leaves no denoising step");

        Path broken = tmp.resolve("broken-model");
        copy(MODEL_DIR, broken);
        try (Stream<Path> vae = Files.walk(broken.resolve("vae"))) {
            for (Path p : vae.sorted((x, y) -> y.getNameCount() - x.getNameCount()).toList()) Files.delete(p);
        }
        assertOneLineError(zoe("txt2img", "-m", broken.toString(), "-p", "x", "-W", "16", "-H", "16", "-o", out),
                "component 'vae'", broken.resolve("vae").toString());
        assertFalse(Files.exists(Path.of(out)), "no output after a failure");
    }

    private static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(target);
                else Files.copy(p, target);
            }
        }
    }

    private void assertNoTemporaryFiles() {
        try (Stream<Path> files = Files.list(tmp)) {
            List<String> names = new ArrayList<>();
            files.forEach(p -> names.add(p.getFileName().toString()));
            assertTrue(names.stream().allMatch(n -> n.endsWith(".png")), names.toString());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
