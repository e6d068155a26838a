package dev.zoetrope.cli;

import dev.zoetrope.core.Json;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.testing.Fixtures;
import dev.zoetrope.hub.FakeHub;
import dev.zoetrope.hub.HubConfig;
import dev.zoetrope.media.RgbImage;
import dev.zoetrope.media.video.VideoWriter;
import dev.zoetrope.models.internvl.ChatPrompts;
import dev.zoetrope.models.internvl.InternVLChat;
import dev.zoetrope.models.internvl.InternVlPreprocessor;
import dev.zoetrope.models.llm.GenerationConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code zoe chat} in-process on the InternVL fixture's tiny checkpoint: one-shot and interactive answers equal
 * the reference's (history, /image, /reset), the older positional form, a hub repo id through a fake hub, a
 * video end to end, seeded sampling, and a one-line error for each bad input.
 */
class ChatCommandTest {
    static final Path FOLDER = Fixtures.folder("internvl");
    static final Path MODEL = FOLDER.resolve("tiny-internvl2");

    @TempDir
    Path temp;

    private record Run(int exit, String out, String err) {
    }

    /** zoe with the given arguments, stdin lines (null: none) and hub settings (null: the environment's). */
    private static Run zoe(String stdin, HubConfig hub, String... args) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        PrintStream saved = System.out;
        int exit;
        try {
            System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
            CommandLine cl = Zoe.commandLine();
            cl.setErr(new PrintWriter(err, true));
            ChatCommand chat = (ChatCommand) cl.getSubcommands().get("chat").getCommand();
            if (stdin != null) chat.input = new BufferedReader(new StringReader(stdin));
            chat.hubConfig = hub;
            String[] all = new String[args.length + 1];
            all[0] = "chat";
            System.arraycopy(args, 0, all, 1, args.length);
            exit = cl.execute(all);
        } finally {
            System.setOut(saved);
        }
        return new Run(exit, bytes.toString(StandardCharsets.UTF_8), err.toString());
    }

    private static Json.Obj chatCase(String name) {
        return Fixtures.json(FOLDER.resolve("cases/" + name + ".json"));
    }

    /** The image file and max_num of the preprocess case a chat case used (one image). */
    private static String[] imageOf(Json.Obj chatCase) {
        String preprocess = Json.Obj.of(chatCase.list("images").get(0)).string("preprocess_case", null);
        for (Object o : Fixtures.json(FOLDER.resolve("preprocess/manifest.json")).list("cases")) {
            Json.Obj p = Json.Obj.of(o);
            if (p.string("name", "").equals(preprocess)) {
                return new String[] {FOLDER.resolve(p.string("image", null)).toString(), String.valueOf(p.intValue("max_num", 0))};
            }
        }
        throw new IllegalStateException("no preprocess case " + preprocess);
    }

    private static void assertAnswers(Run run, String... responses) {
        assertEquals(0, run.exit(), run.err());
        int from = 0;
        for (String r : responses) {
            int at = run.out().indexOf(r, from);
            assertTrue(at >= 0, "answer '" + r + "' missing (in order) from:\n" + run.out());
            from = at + r.length();
        }
        assertEquals(responses.length, run.out().lines().count(), "one line per answer:\n" + run.out());
    }

    @Test
    void answersAboutAnImageAsTheReferenceDoes() {
        Json.Obj c = chatCase("chat_image_auto_prefix");
        String[] image = imageOf(c);
        Run run = zoe(null, null, "--model", MODEL.toString(), "--image", image[0], "--max-tiles", image[1],
                "--max-new-tokens", "12", c.string("question", null));
        assertAnswers(run, c.string("response", null));
        assertEquals(c.string("response", null), run.out().strip());
    }

    @Test
    void theOlderPositionalModelFormStillWorks() {
        Json.Obj c = chatCase("chat_text");
        Run run = zoe(null, null, MODEL.toString(), "--max-new-tokens", "12", c.string("question", null));
        assertAnswers(run, c.string("response", null));
    }

    @Test
    void anInteractiveSessionKeepsHistoryTakesImagesAndResets() {
        Json.Obj first = chatCase("chat_text"), second = chatCase("chat_text_round2"), image = chatCase("chat_image_auto_prefix");
        String[] file = imageOf(image);
        String script = String.join("\n", first.string("question", null), second.string("question", null),
                "", "/reset", "/image " + file[0], image.string("question", null), "/bogus", "/image " + temp.resolve("none.png"))
                + "\n";
        Run run = zoe(script, null, "--model", MODEL.toString(), "--max-tiles", file[1], "--max-new-tokens", "12");
        // round 2 answers with round 1 in its history; after /reset the image question is a first question again
        assertAnswers(run, first.string("response", null), second.string("response", null), image.string("response", null));
        assertTrue(run.err().contains("new conversation"), run.err());
        assertTrue(run.err().contains("unknown command /bogus"), run.err());
        assertTrue(run.err().contains("image file not found"), run.err());
    }

    @Test
    void aHubRepoIdIsDownloadedIntoTheCacheAndRun() throws IOException {
        Json.Obj c = chatCase("chat_text");
        try (FakeHub hub = new FakeHub()) {
            hub.addRepo("zoetrope-test/tiny-internvl2", MODEL, FakeHub.files(), false);
            HubConfig config = new HubConfig(hub.endpoint(), temp.resolve("cache"), null, false, Duration.ofSeconds(10));
            Run run = zoe(null, config, "--model", "zoetrope-test/tiny-internvl2", "--max-new-tokens", "12",
                    c.string("question", null));
            assertAnswers(run, c.string("response", null));
            assertTrue(Files.isDirectory(temp.resolve("cache/models--zoetrope-test--tiny-internvl2/snapshots")));
        }
    }

    /** A synthetic clip: 4 frames sampled at the segment centres, one tile each, "Frame1: <image>\n…" before the question. */
    @Test
    void aVideoIsAnsweredEndToEnd() {
        Path clip = temp.resolve("clip.mp4");
        List<RgbImage> frames = new ArrayList<>();
        for (int f = 0; f < 24; f++) {
            byte[] px = new byte[64 * 48 * 3];
            for (int i = 0; i < px.length; i += 3) {
                px[i] = (byte) (f * 10);
                px[i + 1] = (byte) (i % 200);
                px[i + 2] = (byte) (255 - f * 10);
            }
            frames.add(new RgbImage(64, 48, px));
        }
        VideoWriter.write(clip, frames, 12.0);
        String question = "What is happening in this video?";
        Run run = zoe(null, null, "--model", MODEL.toString(), "--video", clip.toString(), "--frames", "4",
                "--max-new-tokens", "12", question);
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.err().contains("encoding 4 tile(s)"), run.err());
        try (InternVLChat chat = InternVLChat.load(MODEL); Scope s = Scope.open()) {
            InternVlPreprocessor.PixelValues pv = InternVlPreprocessor.loadVideo(clip, null, 1, 4);
            InternVLChat.Reply reply = chat.chat(ChatPrompts.videoPrefix(4) + question,
                    chat.encodeImages(pv.pixelValues(), pv.numPatches()), null, GenerationConfig.greedy(12, List.of()), null);
            assertTrue(reply.query().contains("user\nFrame1: <img>") && reply.query().contains("\nFrame4: <img>"), reply.query());
            assertEquals(reply.response(), run.out().strip());
        }
    }

    @Test
    void aSeedMakesSamplingReproducible() {
        Json.Obj c = chatCase("chat_text");
        String[] args = {"--model", MODEL.toString(), "--max-new-tokens", "10", "--sample", "--temperature", "1.5",
                "--seed", "7", c.string("question", null)};
        Run a = zoe(null, null, args), b = zoe(null, null, args);
        assertEquals(0, a.exit(), a.err());
        assertEquals(a.out(), b.out());
        try (InternVLChat chat = InternVLChat.load(MODEL); Scope s = Scope.open()) {
            String expected = chat.chat(c.string("question", null), null, null,
                    GenerationConfig.greedy(10, List.of()).withSampling(1.5, 50, 1.0, 7L), null).response();
            assertEquals(expected, a.out().strip());
            String greedy = chat.chat(c.string("question", null), null, null, GenerationConfig.greedy(10, List.of()), null).response();
            assertNotEquals(greedy, a.out().strip(), "sampling at temperature 1.5 differs from greedy here");
        }
        Run note = zoe(null, null, "--model", MODEL.toString(), "--max-new-tokens", "2", "--seed", "7", "Hi");
        assertTrue(note.err().contains("only apply with --sample"), note.err());
    }

    private static void assertOneLineError(Run run, String expected) {
        assertEquals(1, run.exit(), run.out() + run.err());
        assertTrue(run.err().contains(expected), run.err());
        assertEquals(1, run.err().strip().lines().filter(l -> l.startsWith("zoe chat: ") && !l.contains("encoding")).count(), run.err());
    }

    @Test
    void unreadableImagesAndVideosAreOneLineErrors() throws IOException {
        assertOneLineError(zoe(null, null, "--model", MODEL.toString(), "--image", temp.resolve("missing.png").toString(), "Hi"),
                "image file not found: " + temp.resolve("missing.png"));
        Path corrupt = Files.write(temp.resolve("corrupt.png"), "not a png at all".getBytes(StandardCharsets.UTF_8));
        assertOneLineError(zoe(null, null, "--model", MODEL.toString(), "--image", corrupt.toString(), "Hi"),
                corrupt + ": not a readable image");
        Path video = Files.write(temp.resolve("corrupt.mp4"), new byte[] {1, 2, 3, 4, 5});
        Run run = zoe(null, null, "--model", MODEL.toString(), "--video", video.toString(), "Hi");
        assertOneLineError(run, video.toString());
    }

    @Test
    void morePlaceholdersThanImagesIsAnError() {
        String[] image = imageOf(chatCase("chat_image_auto_prefix"));
        assertOneLineError(zoe(null, null, "--model", MODEL.toString(), "--image", image[0], "--max-new-tokens", "2",
                "Image-1: <image>\nImage-2: <image>\nCompare them."), "the prompt has 2 <image> placeholders but only 1 image was given");
        assertOneLineError(zoe(null, null, "--model", MODEL.toString(), "--max-new-tokens", "2", "<image>\nWhat is this?"),
                "the prompt has 1 <image> placeholder but no image was given");
    }

    @Test
    void aPromptLongerThanTheContextWindowIsAnError() throws IOException {
        Path small = temp.resolve("small-window");
        Files.createDirectories(small);
        try (var files = Files.list(MODEL)) {
            for (Path f : files.toList()) {
                if (!f.getFileName().toString().equals("config.json")) Files.createSymbolicLink(small.resolve(f.getFileName()), f);
            }
        }
        String config = Files.readString(MODEL.resolve("config.json"));
        assertTrue(config.contains("\"max_position_embeddings\": 32768"));
        Files.writeString(small.resolve("config.json"), config.replace("\"max_position_embeddings\": 32768", "\"max_position_embeddings\": 40"));
        assertOneLineError(zoe(null, null, "--model", small.toString(), "Please tell me a long story about a dragon and a knight."),
                "tokens but the model's context window (max_position_embeddings) is 40 tokens");
        // a prompt that fits leaves the answer the room that is left
        Run fits = zoe(null, null, "--model", small.toString(), "--max-new-tokens", "50", "Hello, who are you?");
        assertEquals(0, fits.exit(), fits.err());
    }

    @Test
    void unrecognisedCheckpointsAndModelsAreOneLineErrors() throws IOException {
        Path empty = Files.createDirectories(temp.resolve("empty"));
        assertOneLineError(zoe(null, null, "--model", empty.toString(), "Hi"), "no config.json");
        Path nativeLayout = Files.createDirectories(temp.resolve("native"));
        Files.writeString(nativeLayout.resolve("config.json"),
                "{\"architectures\": [\"InternVLForConditionalGeneration\"], \"model_type\": \"internvl\"}");
        assertOneLineError(zoe(null, null, "--model", nativeLayout.toString(), "Hi"), "transformers-native InternVL layout");
        Path diffusers = Files.createDirectories(temp.resolve("sd"));
        Files.writeString(diffusers.resolve("config.json"), "{\"_class_name\": \"UNet2DConditionModel\"}");
        assertOneLineError(zoe(null, null, "--model", diffusers.toString(), "Hi"), "not an InternVL chat checkpoint");
        assertOneLineError(zoe(null, null, "--model", "/nonexistent/model", "Hi"),
                "/nonexistent/model: no such directory, and not a Hugging Face repo id");
        assertOneLineError(zoe(null, null), "no model: give one with --model");
    }
}
