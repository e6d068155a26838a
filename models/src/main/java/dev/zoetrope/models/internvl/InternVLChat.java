package dev.zoetrope.models.internvl;

import dev.zoetrope.core.Tensor;
import dev.zoetrope.models.internvl.ConversationTemplate.Turn;
import dev.zoetrope.models.llm.GenerationConfig;
import dev.zoetrope.models.llm.Generator;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

import static dev.zoetrope.models.internvl.InternVLChatModel.IMG_CONTEXT_TOKEN;

/**
 * InternVL2's {@code chat} and {@code batch_chat}: builds the prompt with the checkpoint's conversation
 * template, expands each {@code <image>} placeholder into {@code <img>} + {@code <IMG_CONTEXT>}×(256·tiles) +
 * {@code </img>}, tokenises without BOS, generates until the template's stop token ({@code <|im_end|>}) and
 * decodes the answer ({@link ChatPrompts} builds the strings). Multi-image prompts use one placeholder per
 * image ({@code num_patches_list}), video prompts {@link ChatPrompts#videoPrefix}. {@link #session} keeps the KV cache between rounds.
 *
 * <pre>{@code
 * try (InternVLChat chat = InternVLChat.load(Path.of("InternVL2-1B")); Scope scope = Scope.open()) {
 *     InternVLChat.Images cat = chat.encodeImage(Path.of("cat.png"), 12);          // up to 12 tiles + thumbnail
 *     InternVLChat.Reply reply = chat.chat("What is in the picture?", cat, null,
 *             GenerationConfig.greedy(256), System.out::print);                       // streamed as it is generated
 *     // reply.history() continues the conversation: chat(next, cat, reply.history(), ...), or use session(cat)
 * }
 * }</pre>
 * Tensor work (image features, generation) needs an open {@link dev.zoetrope.core.Scope}; the features of
 * {@link #encodeImage} / {@link #encodeImages} belong to it.
 */
public final class InternVLChat implements AutoCloseable {
    private final InternVLChatModel model;
    private final ChatTokenizer tokenizer;
    private final ChatPrompts prompts;
    private final int imgContextId;
    private final int stopTokenId;
    private final List<AutoCloseable> owned = new ArrayList<>();

    /** Chat over a model and tokenizer the caller keeps (and closes). */
    public InternVLChat(InternVLChatModel model, ChatTokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.prompts = ChatPrompts.of(model.config());
        this.imgContextId = tokenizer.tokenId(IMG_CONTEXT_TOKEN);
        this.stopTokenId = tokenizer.tokenId(prompts.template().stopToken());
    }

    /**
     * Loads an original-layout InternVL2 checkpoint folder (config.json, model.safetensors, tokenizer files);
     * {@link #close()} releases it.
     */
    public static InternVLChat load(Path dir) {
        InternVLChatModel model = InternVLChatModel.load(dir);
        try {
            Qwen2ChatTokenizer tokenizer = Qwen2ChatTokenizer.load(dir);
            try {
                InternVLChat chat = new InternVLChat(model, tokenizer);
                chat.owned.add(tokenizer);
                chat.owned.add(model);
                return chat;
            } catch (RuntimeException e) {
                tokenizer.close();
                throw e;
            }
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** Closes the model and tokenizer when {@link #load} opened them. */
    @Override
    public void close() {
        RuntimeException failure = null;
        for (AutoCloseable c : owned) {
            try {
                c.close();
            } catch (Exception e) {
                if (failure == null) failure = new IllegalStateException("closing " + c, e);
            }
        }
        owned.clear();
        if (failure != null) throw failure;
    }

    public InternVLChatModel model() {
        return model;
    }

    public ChatTokenizer tokenizer() {
        return tokenizer;
    }

    public ChatPrompts prompts() {
        return prompts;
    }

    /** Images ready for a prompt: extract_feature output [tiles, 256, hidden] and the tiles of each image. */
    public record Images(Tensor features, List<Integer> numPatchesList) {
        public Images {
            numPatchesList = List.copyOf(numPatchesList);
            int total = numPatchesList.stream().mapToInt(Integer::intValue).sum();
            if (total != features.dim(0)) {
                throw new IllegalArgumentException("num_patches_list " + numPatchesList + " adds up to " + total
                        + " tiles, the images have " + features.dim(0));
            }
        }
    }

    /**
     * One image file as the model card's {@code load_image(file, max_num=maxTiles)} prepares it (dynamic tiling at
     * the checkpoint's tile size, a thumbnail when there is more than one tile), encoded for a prompt. The
     * checkpoint's own limit is {@code model().config().maxDynamicPatch()} (12 for InternVL2).
     */
    public Images encodeImage(Path file, int maxTiles) {
        return encodeImages(InternVlPreprocessor.loadImage(file, model.config().imageSize(), maxTiles), null);
    }

    /**
     * Runs the vision side once: pixel_values [tiles, 3, 448, 448] → {@link Images}. {@code numPatchesList}
     * gives the tiles of each image in order (null = all tiles are one image). The features belong to the
     * current scope.
     */
    public Images encodeImages(Tensor pixelValues, List<Integer> numPatchesList) {
        List<Integer> patches = numPatchesList != null ? numPatchesList : List.of(pixelValues.dim(0));
        int total = patches.stream().mapToInt(Integer::intValue).sum();
        if (total != pixelValues.dim(0)) {
            throw new IllegalArgumentException("num_patches_list " + patches + " adds up to " + total + " tiles, pixel_values has "
                    + pixelValues.dim(0));
        }
        return new Images(model.extractFeature(pixelValues), patches);
    }

    /**
     * One chat round's outcome.
     *
     * @param history   the history passed in plus this round (with the question as asked, prefix included)
     * @param outputIds the generated ids (ending with the stop token when the answer ended on it)
     */
    public record Reply(String response, List<Turn> history, String query, int[] inputIds, int[] outputIds,
                        Generator.FinishReason finishReason) {
    }

    /**
     * The generation settings for a prompt of {@code promptTokens} tokens: refused when the prompt alone fills
     * the language model's context window ({@code max_position_embeddings}); max_new_tokens is cut to the room
     * left (the answer then ends with finish reason LENGTH).
     */
    public GenerationConfig fitToContext(int promptTokens, GenerationConfig generation) {
        int window = model.config().llmConfig().maxPositionEmbeddings();
        if (promptTokens >= window) {
            throw new IllegalArgumentException("the prompt has " + promptTokens + " tokens but the model's context window"
                    + " (max_position_embeddings) is " + window + " tokens: shorten the question or the conversation,"
                    + " or use fewer images or image tiles");
        }
        int room = window - promptTokens;
        return generation.maxNewTokens() > room ? generation.withMaxNewTokens(room) : generation;
    }

    /** The generation settings chat() uses: the caller's, with the template's stop token as the only eos. */
    public GenerationConfig chatGeneration(GenerationConfig generation) {
        return generation.withEosTokenIds(List.of(stopTokenId)).withPadTokenId(
                generation.padTokenId() != null ? generation.padTokenId() : tokenizer.padTokenId());
    }

    /**
     * model.chat(tokenizer, pixel_values, question, generation_config, history): one round.
     *
     * @param images  encoded images or null for a text-only round
     * @param history null for a first question, else past rounds (not modified)
     * @param onText  receives the answer text as it is generated (may be null)
     */
    public Reply chat(String question, Images images, List<Turn> history, GenerationConfig generation, Consumer<String> onText) {
        return chat(question, images, history, generation, onText, null);
    }

    Reply chat(String question, Images images, List<Turn> history, GenerationConfig generation, Consumer<String> onText,
               Generator.LogitsObserver logitsObserver) {
        boolean hasImages = images != null;
        String asked = ChatPrompts.effectiveQuestion(question, history, hasImages);
        String query = prompts.chatQuery(question, history, hasImages ? images.numPatchesList() : null);
        int[] ids = tokenizer.encode(query);
        GenerationConfig config = fitToContext(ids.length, chatGeneration(generation));
        ChatTokenizer.TextStream stream = onText == null ? null : tokenizer.textStream(true);
        Generator.Result result = model.generate(new long[][] {toLongs(ids)}, null, hasImages ? images.features() : null,
                imgContextId, config, stream == null ? null : (row, token) -> emit(stream, token, onText),
                logitsObserver);
        if (stream != null) {
            String rest = stream.finish();
            if (!rest.isEmpty()) onText.accept(rest);
        }
        int[] out = result.tokens().get(0);
        String response = answer(out);
        List<Turn> newHistory = new ArrayList<>(history == null ? List.of() : history);
        newHistory.add(new Turn(asked, response));
        return new Reply(response, List.copyOf(newHistory), query, ids, out, result.reasons().get(0));
    }

    private void emit(ChatTokenizer.TextStream stream, int token, Consumer<String> onText) {
        if (token == stopTokenId) return;
        String piece = stream.next(token);
        if (!piece.isEmpty()) onText.accept(piece);
    }

    /** decode(skip_special_tokens) → text before the stop token, stripped — as chat() post-processes. */
    String answer(int[] outputIds) {
        String text = tokenizer.decode(outputIds, true);
        int stop = text.indexOf(prompts.template().stopToken());
        if (stop >= 0) text = text.substring(0, stop);
        return text.strip();
    }

    /**
     * Prompts of a batch_chat call, tokenised and left-padded to the longest.
     *
     * @param queries   the query of each row
     * @param ids       [B][T] padded ids
     * @param realTokens [B][T] attention mask (false at padding)
     */
    public record BatchPrompt(List<String> queries, long[][] ids, boolean[][] realTokens) {
    }

    /** batch_chat's prompts: one question per row, each with its image (numPatchesList[i] tiles) or none. */
    public BatchPrompt batchPrompt(List<String> questions, List<Integer> numPatchesList) {
        boolean hasImages = numPatchesList != null;
        if (hasImages && numPatchesList.size() != questions.size()) {
            throw new IllegalArgumentException(questions.size() + " questions but num_patches_list has " + numPatchesList.size()
                    + " entries (one image per question)");
        }
        List<String> queries = new ArrayList<>();
        List<int[]> encoded = new ArrayList<>();
        int longest = 0;
        for (int i = 0; i < questions.size(); i++) {
            String query = prompts.batchQuery(questions.get(i), hasImages ? numPatchesList.get(i) : null);
            queries.add(query);
            int[] ids = tokenizer.encode(query);
            encoded.add(ids);
            longest = Math.max(longest, ids.length);
        }
        long[][] ids = new long[questions.size()][longest];
        boolean[][] real = new boolean[questions.size()][longest];
        int pad = tokenizer.padTokenId();
        for (int r = 0; r < ids.length; r++) {
            int[] row = encoded.get(r);
            int offset = longest - row.length;
            Arrays.fill(ids[r], 0, offset, pad);
            for (int i = 0; i < row.length; i++) {
                ids[r][offset + i] = row[i];
                real[r][offset + i] = true;
            }
        }
        return new BatchPrompt(List.copyOf(queries), ids, real);
    }

    /** The answers of a batch_chat call, plus what produced them. */
    public record BatchReply(List<String> responses, BatchPrompt prompt, List<int[]> outputIds) {
    }

    /**
     * model.batch_chat(tokenizer, pixel_values, questions, generation_config, num_patches_list): every question
     * answered in one left-padded batch; row i gets image i (its {@code numPatchesList} entry of tiles).
     */
    public BatchReply batchChat(List<String> questions, Images images, GenerationConfig generation) {
        BatchPrompt prompt = batchPrompt(questions, images == null ? null : images.numPatchesList());
        Generator.Result result = model.generate(prompt.ids(), prompt.realTokens(), images == null ? null : images.features(),
                imgContextId, fitToContext(prompt.ids()[0].length, chatGeneration(generation)), null, null);
        List<String> responses = new ArrayList<>();
        for (int[] out : result.tokens()) responses.add(answer(out));
        return new BatchReply(List.copyOf(responses), prompt, result.tokens());
    }

    /**
     * A multi-round conversation that reuses the KV cache between rounds, about {@code images} (may be null);
     * more images can join later ({@link ChatSession#addImages}). Close it.
     */
    public ChatSession session(Images images) {
        return new ChatSession(this, images);
    }

    int imgContextId() {
        return imgContextId;
    }

    static long[] toLongs(int[] ids) {
        long[] out = new long[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = ids[i];
        return out;
    }
}
