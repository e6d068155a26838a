package dev.zoetrope.cli;

import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.hub.FileSelection;
import dev.zoetrope.hub.HubClient;
import dev.zoetrope.hub.HubConfig;
import dev.zoetrope.hub.RepoId;
import dev.zoetrope.media.MediaException;
import dev.zoetrope.models.internvl.ChatPrompts;
import dev.zoetrope.models.internvl.ChatSession;
import dev.zoetrope.models.internvl.InternVLChat;
import dev.zoetrope.models.internvl.InternVlPreprocessor;
import dev.zoetrope.models.llm.GenerationConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import static dev.zoetrope.core.Ops.concat;

/**
 * {@code zoe chat --model DIR|REPO [--image F]... [--video F --frames N] [QUESTION]}: InternVL2 chat about
 * images or a video, the answer streamed to stdout. Without a question, an interactive conversation on stdin
 * (history kept, {@code /image PATH}, {@code /reset}, Ctrl-D to leave). The older form {@code zoe chat MODEL
 * [QUESTION]} still works.
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = {"Chat with an InternVL2 checkpoint (original OpenGVLab layout, e.g. OpenGVLab/InternVL2-1B) about"
                + " images or a video; the answer is streamed to stdout.",
                "Without a question: an interactive conversation on stdin, one question per line. Commands:",
                "  /image PATH   add an image to the next question",
                "  /reset        start over (the --image/--video input joins the next question again)",
                "  /exit         leave (or Ctrl-D)"},
        footer = {"", "Examples:",
                "  zoe chat --model OpenGVLab/InternVL2-1B --image cat.png \"What is in the picture?\"",
                "  zoe chat --model ./InternVL2-1B --video clip.mp4 --frames 8 \"What happens in this video?\"",
                "  zoe chat --model ./InternVL2-1B --image a.png --image b.png \"What differs between the images?\""})
final class ChatCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR|REPO", description = "Checkpoint directory (config.json, model.safetensors,"
            + " tokenizer files) or Hugging Face repo id, downloaded into the hub cache (honours HF_HOME, HF_ENDPOINT,"
            + " HF_TOKEN, HF_HUB_OFFLINE).")
    String model;

    @Option(names = "--revision", paramLabel = "REV", description = "Hub branch, tag or commit (default: main).")
    String revision;

    @Parameters(paramLabel = "QUESTION", arity = "0..*", description = "The question (quote it); omit it for an interactive"
            + " conversation.")
    List<String> words = new ArrayList<>();

    @Option(names = "--image", paramLabel = "FILE", description = "An image (repeat for several: Image-1, Image-2, …).")
    List<Path> images = new ArrayList<>();

    @Option(names = "--video", paramLabel = "FILE", description = "A video: --frames frames at the centres of equal segments,"
            + " one 448×448 tile each (Frame1, Frame2, …).")
    Path video;

    @Option(names = "--frames", paramLabel = "N", description = "Frames sampled from --video (default: ${DEFAULT-VALUE}).")
    int frames = 8;

    @Option(names = "--max-tiles", paramLabel = "N",
            description = "Most 448×448 tiles per image, plus a thumbnail (default: the checkpoint's max_dynamic_patch, 12"
                    + " for InternVL2).")
    Integer maxTiles;

    /** The model card's name for --max-tiles (load_image's max_num), kept for older command lines. */
    @Option(names = "--max-num", paramLabel = "N", hidden = true)
    void maxNum(int n) {
        maxTiles = n;
    }

    @Option(names = "--max-new-tokens", paramLabel = "N", description = "Longest answer in tokens (default: ${DEFAULT-VALUE}).")
    int maxNewTokens = 1024;

    @Option(names = {"--sample", "--do-sample"}, description = "Sample instead of greedy decoding (transformers' do_sample).")
    boolean sample;

    @Option(names = "--temperature", description = "Sampling temperature (default: ${DEFAULT-VALUE}).")
    double temperature = 1.0;

    @Option(names = "--top-k", description = "Sampling top-k, 0 = off (default: ${DEFAULT-VALUE}).")
    int topK = 50;

    @Option(names = "--top-p", description = "Sampling top-p (default: ${DEFAULT-VALUE}).")
    double topP = 1.0;

    @Option(names = "--seed", description = "Sampling seed, as torch.manual_seed(seed) before the conversation (default: random).")
    Long seed;

    @Option(names = "--repetition-penalty", description = "Repetition penalty (default: ${DEFAULT-VALUE}).")
    double repetitionPenalty = 1.0;

    /** Where interactive questions come from (tests set it; otherwise stdin). */
    BufferedReader input;
    /** Hub settings (tests set a fake hub; otherwise the environment's). */
    HubConfig hubConfig;

    private PrintStream out;
    private PrintWriter err;

    @Override
    public Integer call() throws IOException {
        err = spec.commandLine().getErr();
        List<String> rest = new ArrayList<>(words);
        if (model == null) {
            if (rest.isEmpty()) throw new UserError("no model: give one with --model DIR|REPO (see zoe chat --help)");
            model = rest.remove(0);   // the older form: zoe chat MODEL [QUESTION]
        }
        String question = rest.isEmpty() ? null : String.join(" ", rest);
        if (video != null && !images.isEmpty()) throw new UserError("use either --image or --video, not both");
        if (frames < 1) throw new UserError("--frames must be at least 1, got " + frames);
        if (maxTiles != null && maxTiles < 1) throw new UserError("--max-tiles must be at least 1, got " + maxTiles);
        GenerationConfig generation = generation();
        Path dir = modelDirectory();
        out = new PrintStream(System.out, true, StandardCharsets.UTF_8);

        try (InternVLChat chat = InternVLChat.load(dir); Scope scope = Scope.open()) {
            InternVLChat.Images attached = attachCommandLineInput(chat);
            try (ChatSession session = chat.session(null)) {
                if (question != null) {
                    answer(session, prefixFor(question, true, attached != null, 0, 0), attached, generation);
                    return 0;
                }
                converse(chat, session, attached, generation);
            }
        }
        return 0;
    }

    private GenerationConfig generation() {
        GenerationConfig g = GenerationConfig.greedy(maxNewTokens, List.of()).withRepetitionPenalty(repetitionPenalty);
        if (sample) return g.withSampling(temperature, topK, topP, seed);
        CommandLine.ParseResult parsed = spec.commandLine().getParseResult();
        if (parsed != null && (parsed.hasMatchedOption("--temperature") || parsed.hasMatchedOption("--top-k")
                || parsed.hasMatchedOption("--top-p") || parsed.hasMatchedOption("--seed"))) {
            err.println("zoe chat: note: --temperature, --top-k, --top-p and --seed only apply with --sample (decoding is greedy)");
        }
        return g;
    }

    /** A local checkpoint directory, or a hub repo id resolved into the hub cache. */
    private Path modelDirectory() throws IOException {
        try {
            Path local = Path.of(model);
            if (Files.isDirectory(local)) return local;
            if (Files.exists(local)) throw new UserError(model + ": not a directory (expected an InternVL2 checkpoint folder)");
        } catch (InvalidPathException e) {
            // not a local path: maybe a repo id
        }
        if (!RepoId.looksLikeRepoId(model)) {
            throw new UserError(model + ": no such directory, and not a Hugging Face repo id (org/name) either");
        }
        ProgressBar bar = new ProgressBar(err, System.console() != null);
        try (HubClient client = new HubClient(hubConfig != null ? hubConfig : HubConfig.fromEnvironment())) {
            return client.resolveModel(model, revision, FileSelection.model(),
                    p -> bar.update(p.fraction(), ProgressBar.bytes(p.bytes()) + " / " + ProgressBar.bytes(p.totalBytes())
                            + "  " + p.file(), false));
        } finally {
            bar.finish();
        }
    }

    /** The command line's images or video, encoded once (null: none). */
    private InternVLChat.Images attachCommandLineInput(InternVLChat chat) {
        if (video != null) {
            InternVlPreprocessor.PixelValues v;
            try {
                v = InternVlPreprocessor.loadVideo(video, null, chat.model().config().imageSize(), 1, frames);
            } catch (MediaException e) {
                throw new UserError(e.getMessage());
            }
            return encode(chat, v.pixelValues(), v.numPatches());
        }
        if (images.isEmpty()) return null;
        List<Tensor> pixelValues = new ArrayList<>();
        List<Integer> numPatches = new ArrayList<>();
        for (Path image : images) {
            Tensor pv = loadImage(chat, image);
            pixelValues.add(pv);
            numPatches.add(pv.dim(0));
        }
        return encode(chat, pixelValues.size() == 1 ? pixelValues.get(0) : concat(0, pixelValues), numPatches);
    }

    /**
     * The question as the model sees it, with the model card's placeholders for the input joining it: video
     * frames "Frame1: &lt;image&gt;\n…", images "Image-1: &lt;image&gt;\n…" numbered through the conversation. A
     * conversation's only image needs no label: chat() puts "&lt;image&gt;\n" before a first question itself, a
     * later one gets it here. A question that writes its own placeholders is left alone.
     *
     * @param commandLine   the --image/--video input joins with this question
     * @param added         images added with /image that join with it
     * @param imagesBefore  images (not video frames) already in the conversation
     */
    private String prefixFor(String question, boolean fresh, boolean commandLine, int added, int imagesBefore) {
        boolean withVideo = commandLine && video != null;
        int joining = added + (commandLine && video == null ? images.size() : 0);
        if (question.contains(ChatPrompts.IMAGE_PLACEHOLDER) || (!withVideo && joining == 0)) return question;
        if (!withVideo && imagesBefore == 0 && joining == 1) {
            return fresh ? question : ChatPrompts.IMAGE_PLACEHOLDER + "\n" + question;
        }
        StringBuilder prefix = new StringBuilder(withVideo ? ChatPrompts.videoPrefix(frames) : "");
        for (int i = 1; i <= joining; i++) {
            prefix.append("Image-").append(imagesBefore + i).append(": ").append(ChatPrompts.IMAGE_PLACEHOLDER).append('\n');
        }
        return prefix + question;
    }

    private Tensor loadImage(InternVLChat chat, Path image) {
        int tiles = maxTiles != null ? maxTiles : chat.model().config().maxDynamicPatch();
        try {
            return InternVlPreprocessor.loadImage(image, chat.model().config().imageSize(), tiles);
        } catch (MediaException e) {
            throw new UserError(e.getMessage());
        }
    }

    private InternVLChat.Images encode(InternVLChat chat, Tensor pixelValues, List<Integer> numPatches) {
        err.println("zoe chat: encoding " + pixelValues.dim(0) + " tile(s) of " + pixelValues.dim(2) + "×" + pixelValues.dim(3) + "…");
        err.flush();
        return chat.encodeImages(pixelValues, numPatches);
    }

    private void answer(ChatSession session, String question, InternVLChat.Images newImages, GenerationConfig generation) {
        session.ask(question, newImages, generation, text -> {
            out.print(text);
            out.flush();   // stream each piece as it is decoded
        });
        out.println();
    }

    /** The interactive loop: one question per line until end of input. */
    private void converse(InternVLChat chat, ChatSession session, InternVLChat.Images attached, GenerationConfig generation)
            throws IOException {
        BufferedReader in = input != null ? input
                : new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        boolean console = input == null && System.console() != null;
        if (console) err.println("zoe chat: ask a question; /image PATH adds an image, /reset starts over, Ctrl-D leaves.");
        boolean fresh = true;              // nothing asked yet in this conversation
        InternVLChat.Images added = null;  // /image images waiting for the next question
        int addedCount = 0, imagesBefore = 0;
        while (true) {
            if (console) {
                err.print("> ");
                err.flush();
            }
            String line = in.readLine();
            if (line == null) return;
            line = line.strip();
            if (line.isEmpty()) continue;
            if (line.equals("/exit") || line.equals("/quit")) return;
            if (line.equals("/reset")) {
                session.reset();
                fresh = true;
                added = null;
                addedCount = imagesBefore = 0;
                note("new conversation");
            } else if (line.equals("/image") || line.startsWith("/image ")) {
                String path = line.substring("/image".length()).strip();
                try (Scope pixels = Scope.open()) {
                    if (path.isEmpty()) throw new UserError("/image needs a file: /image PATH");
                    Tensor pv = loadImage(chat, Path.of(path));
                    InternVLChat.Images one = encode(chat, pv, List.of(pv.dim(0)));
                    pixels.keep(one.features());
                    added = join(added, one);
                    addedCount++;
                    note(path + " (" + pv.dim(0) + " tile(s)) joins the next question");
                } catch (UserError | InvalidPathException e) {
                    error(e.getMessage());
                }
            } else if (line.startsWith("/")) {
                error("unknown command " + line.split("\\s+")[0] + " (commands: /image PATH, /reset, /exit)");
            } else {
                boolean withCommandLine = fresh && attached != null;
                String asked = prefixFor(line, fresh, withCommandLine, addedCount, imagesBefore);
                try {
                    answer(session, asked, join(withCommandLine ? attached : null, added), generation);
                } catch (IllegalArgumentException e) {
                    error(e.getMessage());
                    continue;
                }
                imagesBefore += addedCount + (withCommandLine && video == null ? images.size() : 0);
                fresh = false;
                added = null;
                addedCount = 0;
            }
        }
    }

    private static InternVLChat.Images join(InternVLChat.Images first, InternVLChat.Images more) {
        if (first == null) return more;
        if (more == null) return first;
        List<Integer> patches = new ArrayList<>(first.numPatchesList());
        patches.addAll(more.numPatchesList());
        return new InternVLChat.Images(concat(0, first.features(), more.features()), patches);
    }

    private void error(String message) {
        note(message);
    }

    private void note(String message) {
        err.println("zoe chat: " + message);
        err.flush();
    }
}
