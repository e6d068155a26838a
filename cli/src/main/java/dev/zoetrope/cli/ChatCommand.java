package dev.zoetrope.cli;

import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.models.internvl.ChatPrompts;
import dev.zoetrope.models.internvl.ChatSession;
import dev.zoetrope.models.internvl.InternVLChat;
import dev.zoetrope.models.internvl.InternVlPreprocessor;
import dev.zoetrope.models.llm.GenerationConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import static dev.zoetrope.core.Ops.concat;

/**
 * {@code zoe chat MODEL [--image F]... [--video F] [QUESTION]}: InternVL2 chat about images or a video, the
 * answer streamed to stdout. Without a question it reads one question per line from stdin (a multi-round
 * conversation that keeps its KV cache) until an empty line or end of input.
 */
@Command(name = "chat", description = "Chat with an InternVL2 checkpoint (original OpenGVLab layout) about images or a video.")
final class ChatCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "Checkpoint directory (config.json, model.safetensors, tokenizer).")
    Path model;

    @Parameters(index = "1", arity = "0..1", paramLabel = "QUESTION", description = "The question; omit to read questions from stdin.")
    String question;

    @Option(names = "--image", paramLabel = "FILE", description = "An image (repeat for several; they are referred to as Image-1, Image-2, …).")
    List<Path> images = new ArrayList<>();

    @Option(names = "--video", paramLabel = "FILE", description = "A video; --frames frames are sampled, one tile each.")
    Path video;

    @Option(names = "--frames", description = "Frames sampled from --video (default: ${DEFAULT-VALUE}).")
    int frames = 8;

    @Option(names = "--max-num", description = "Most tiles per image (default: the checkpoint's max_dynamic_patch).")
    Integer maxNum;

    @Option(names = "--max-new-tokens", description = "Longest answer in tokens (default: ${DEFAULT-VALUE}).")
    int maxNewTokens = 1024;

    @Option(names = "--sample", description = "Sample instead of greedy decoding.")
    boolean sample;

    @Option(names = "--temperature", description = "Sampling temperature (default: ${DEFAULT-VALUE}).")
    double temperature = 1.0;

    @Option(names = "--top-k", description = "Sampling top-k, 0 = off (default: ${DEFAULT-VALUE}).")
    int topK = 50;

    @Option(names = "--top-p", description = "Sampling top-p (default: ${DEFAULT-VALUE}).")
    double topP = 1.0;

    @Option(names = "--seed", description = "Sampling seed.")
    Long seed;

    @Option(names = "--repetition-penalty", description = "Repetition penalty (default: ${DEFAULT-VALUE}).")
    double repetitionPenalty = 1.0;

    @Override
    public Integer call() throws Exception {
        if (!Files.isDirectory(model)) throw new UserError(model + ": not a directory (expected an InternVL2 checkpoint folder)");
        for (Path p : images) if (!Files.isRegularFile(p)) throw new UserError(p + ": no such image file");
        if (video != null && !Files.isRegularFile(video)) throw new UserError(video + ": no such video file");
        if (video != null && !images.isEmpty()) throw new UserError("use either --image or --video, not both");
        if (frames < 1) throw new UserError("--frames must be at least 1");
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        GenerationConfig generation = GenerationConfig.greedy(maxNewTokens, List.of()).withRepetitionPenalty(repetitionPenalty);
        if (sample) generation = generation.withSampling(temperature, topK, topP, seed);

        try (InternVLChat chat = InternVLChat.load(model); Scope scope = Scope.open()) {
            InternVLChat.Images encoded = encode(chat);
            String prefix = prefix(encoded);
            try (ChatSession session = chat.session(encoded)) {
                if (question != null) {
                    ask(session, withPrefix(prefix, question), generation, out);
                    return 0;
                }
                BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                boolean first = true;
                for (String line; (line = in.readLine()) != null && !line.isBlank(); first = false) {
                    ask(session, first ? withPrefix(prefix, line) : line, generation, out);
                }
            }
        }
        return 0;
    }

    private InternVLChat.Images encode(InternVLChat chat) {
        int tiles = maxNum != null ? maxNum : chat.model().config().maxDynamicPatch();
        List<Tensor> pixelValues = new ArrayList<>();
        List<Integer> numPatches = new ArrayList<>();
        if (video != null) {
            InternVlPreprocessor.PixelValues v = InternVlPreprocessor.loadVideo(video, null, 1, frames);
            pixelValues.add(v.pixelValues());
            numPatches.addAll(v.numPatches());
        }
        for (Path image : images) {
            Tensor pv = InternVlPreprocessor.loadImage(image, tiles);
            pixelValues.add(pv);
            numPatches.add(pv.dim(0));
        }
        if (pixelValues.isEmpty()) return null;
        Tensor all = pixelValues.size() == 1 ? pixelValues.get(0) : concat(0, pixelValues);
        System.err.println("encoding " + all.dim(0) + " tile(s) of 448×448…");
        return chat.encodeImages(all, numPatches);
    }

    /** The model card's placeholders: Frame1..n for a video, Image-1..n for several images, none for one. */
    private String prefix(InternVLChat.Images encoded) {
        if (encoded == null) return "";
        if (video != null) return ChatPrompts.videoPrefix(encoded.numPatchesList().size());
        return images.size() > 1 ? ChatPrompts.imagePrefix(images.size()) : "";
    }

    private static String withPrefix(String prefix, String question) {
        return prefix.isEmpty() || question.contains(ChatPrompts.IMAGE_PLACEHOLDER) ? question : prefix + question;
    }

    private static void ask(ChatSession session, String question, GenerationConfig generation, PrintStream out) {
        session.ask(question, generation, out::print);
        out.println();
    }
}
