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
import dev.zoetrope.models.internvl.InternVlFixtures;
import dev.zoetrope.models.internvl.InternVlPreprocessor;
import dev.zoetrope.models.llm.GenerationConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code zoe chat} in-process on the InternVL fixture's tiny checkpoint: one-shot and interactive answers equal
 * the reference's (history, /image, /reset), the older positional form, a hub repo id through a fake hub, a
 * video end to end, seeded sampling, and a one-line error for each bad input.
 */
class ChatCommandTest {
    static final Path FOLDER = InternVlFixtures.folder();
    static final Path MODEL = InternVlFixtures.modelDir();

    @TempDir
    Path temp;

    /** zoe chat with the given arguments, stdin lines (null: none) and hub settings (null: the environment's). */
    private static ZoeRun zoe(String stdin, HubConfig hub, String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "chat";
        System.arraycopy(args, 0, all, 1, args.length);
        return ZoeRun.of(cl -> {
            ChatCommand chat = ZoeRun.command(cl, "chat");
            if (stdin != null) chat.input = new BufferedReader(new StringReader(stdin));
            chat.hubConfig = hub;
        }, all);
    }

    /** A first question without images (the cheapest chat case of that kind). */
    private static Json.Obj textCase() {
        return InternVlFixtures.cases("chat").stream().map(InternVlFixtures.Case::manifest)
                .filter(m -> m.list("history_in") == null && m.list("images").isEmpty())
                .min(Comparator.comparingInt(m -> m.intValue("prompt_len", 0)))
                .orElseThrow(() -> new IllegalStateException("no text-only first-round chat case"));
    }

    /** The case that asks the next question after {@code first} (its history_in is first's history_out). */
    private static Json.Obj followUp(Json.Obj first) {
        return InternVlFixtures.cases("chat").stream().map(InternVlFixtures.Case::manifest)
                .filter(m -> m.list("history_in") != null && m.list("history_in").equals(first.list("history_out"))
                        && m.list("images").equals(first.list("images")))
                .findFirst().orElseThrow(() -> new IllegalStateException("no follow-up of " + first.string("name", "?")));
    }

    /** A first question about one image, the one with the fewest tiles. */
    private static Json.Obj imageCase() {
        return InternVlFixtures.cases("chat").stream().map(InternVlFixtures.Case::manifest)
                .filter(m -> m.list("history_in") == null && m.list("images").size() == 1)
                .min(Comparator.comparingInt(m -> Json.Obj.of(m.list("images").get(0)).intValue("num_tiles", 0)))
                .orElseThrow(() -> new IllegalStateException("no single-image first-round chat case"));
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

    private static void assertAnswers(ZoeRun run, String... responses) {
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
        Json.Obj c = imageCase();
        String[] image = imageOf(c);
        ZoeRun run = zoe(null, null, "--model", MODEL.toString(), "--image", image[0], "--max-tiles", image[1],
                "--max-new-tokens", "12", c.string("question", null));
        assertAnswers(run, c.string("response", null));
        assertEquals(c.string("response", null), run.out().strip());
    }

    @Test
    void theOlderPositionalModelFormStillWorks() {
        Json.Obj c = textCase();
        ZoeRun run = zoe(null, null, MODEL.toString(), "--max-new-tokens", "12", c.string("question", null));
        assertAnswers(run, c.string("response", null));
    }

    @Test
    void anInteractiveSessionKeepsHistoryTakesImagesAndResets() {
        Json.Obj first = textCase(), second = followUp(first), image = imageCase();
        String[] file = imageOf(image);
        String script = String.join("\n", first.string("question", null), second.string("question", null),
                "", "/reset", "/image " + file[0], image.string("question", null), "/bogus", "/image " + temp.resolve("none.png"))
                + "\n";
        ZoeRun run = zoe(script, null, "--model", MODEL.toString(), "--max-tiles", file[1], "--max-new-tokens", "12");
        // round 2 answers with round 1 in its history; after /reset the image question is a first question again
        assertAnswers(run, first.string("response", null), second.string("response", null), image.string("response", null));
        assertTrue(run.err().contains("new conversation"), run.err());
        assertTrue(run.err().contains("unknown command /bogus"), run.err());
        assertTrue(run.err().contains("image file not found"), run.err());
    }

    @Test
    void aHubRepoIdIsDownloadedIntoTheCacheAndRun() throws IOException {
        Json.Obj c = textCase();
        try (FakeHub hub = new FakeHub()) {
            hub.addRepo("zoetrope-test/tiny-internvl2", MODEL, FakeHub.files(), false);
            HubConfig config = new HubConfig(hub.endpoint(), temp.resolve("cache"), null, false, Duration.ofSeconds(10));
            ZoeRun run = zoe(null, config, "--model", "zoetrope-test/tiny-internvl2", "--max-new-tokens", "12",
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
        ZoeRun run = zoe(null, null, "--model", MODEL.toString(), "--video", clip.toString(), "--frames", "4",
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
        Json.Obj c = textCase();
        String[] args = {"--model", MODEL.toString(), "--max-new-tokens", "10", "--sample", "--temperature", "1.5",
                "--seed", "7", c.string("question", null)};
        ZoeRun a = zoe(null, null, args), b = zoe(null, null, args);
        assertEquals(0, a.exit(), a.err());
        assertEquals(a.out(), b.out());
        try (InternVLChat chat = InternVLChat.load(MODEL); Scope s = Scope.open()) {
            String expected = chat.chat(c.string("question", null), null, null,
                    GenerationConfig.greedy(10, List.of()).withSampling(1.5, 50, 1.0, 7L), null).response();
            assertEquals(expected, a.out().strip());
            String greedy = chat.chat(c.string("question", null), null, null, GenerationConfig.greedy(10, List.of()), null).response();
            assertNotEquals(greedy, a.out().strip(), "sampling at temperature 1.5 differs from greedy here");
        }
        ZoeRun note = zoe(null, null, "--model", MODEL.toString(), "--max-new-tokens", "2", "--seed", "7", "Hi");
        assertTrue(note.err().contains("only apply with --sample"), note.err());
    }

    /** One error line (besides the progress note "encoding N tiles" that may come before it). */
    private static void assertOneLineError(ZoeRun run, String expected) {
        assertEquals(1, run.exit(), run.out() + run.err());
        assertTrue(run.err().contains(expected), run.err());
        assertEquals(1, run.errLines().stream().filter(l -> l.startsWith("zoe chat: ") && !l.contains("encoding")).count(), run.err());
        assertFalse(run.err().contains("\tat "), "stack trace in: " + run.err());
    }

    @Test
    void unreadableImagesAndVideosAreOneLineErrors() throws IOException {
        assertOneLineError(zoe(null, null, "--model", MODEL.toString(), "--image", temp.resolve("missing.png").toString(), "Hi"),
                "image file not found: " + temp.resolve("missing.png"));
        Path corrupt = Files.write(temp.resolve("corrupt.png"), "not a png at all".getBytes(StandardCharsets.UTF_8));
        assertOneLineError(zoe(null, null, "--model", MODEL.toString(), "--image", corrupt.toString(), "Hi"),
                corrupt + ": not a readable image");
        Path video = Files.write(temp.resolve("corrupt.mp4"), new byte[] {1, 2, 3, 4, 5});
        ZoeRun run = zoe(null, null, "--model", MODEL.toString(), "--video", video.toString(), "Hi");
        assertOneLineError(run, video.toString());
    }

    @Test
    void morePlaceholdersThanImagesIsAnError() {
        String[] image = imageOf(imageCase());
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
        // a window three tokens longer than the text case's prompt
        Json.Obj c = textCase();
        int window = c.intValue("prompt_len", 0) + 3;
        Map<String, Object> config = Json.parseObject(Files.readString(MODEL.resolve("config.json")));
        @SuppressWarnings("unchecked")
        Map<String, Object> llm = (Map<String, Object>) config.get("llm_config");
        llm.put("max_position_embeddings", (long) window);
        Files.writeString(small.resolve("config.json"), Json.write(config));
        String longer = (c.string("question", null) + " ").repeat(4).strip();
        assertOneLineError(zoe(null, null, "--model", small.toString(), longer),
                "tokens but the model's context window (max_position_embeddings) is " + window + " tokens");
        // a prompt that fits leaves the answer the room that is left
        ZoeRun fits = zoe(null, null, "--model", small.toString(), "--max-new-tokens", "50", c.string("question", null));
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
