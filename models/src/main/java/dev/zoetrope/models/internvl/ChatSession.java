package dev.zoetrope.models.internvl;

import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.noise.TorchGenerator;
import dev.zoetrope.models.internvl.ConversationTemplate.Turn;
import dev.zoetrope.models.llm.GenerationConfig;
import dev.zoetrope.models.llm.Generator;
import dev.zoetrope.models.llm.KvCache;
import dev.zoetrope.models.qwen2.Qwen2ForCausalLM;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static dev.zoetrope.core.Ops.concat;

/**
 * A multi-round chat, answering exactly as repeated {@link InternVLChat#chat} calls with the growing history
 * (and all the images so far as pixel_values, one {@code num_patches_list} entry each) would, but keeping the
 * KV cache between rounds: each round's prompt shares its beginning with what the cache already holds (the
 * previous prompt and answer), so only the new part is encoded — the image tokens in particular are processed
 * once. The reuse is by id: the cached prefix is kept up to the first id that differs (the re-tokenised
 * previous answer may differ from the generated ids).
 *
 * <p>Images may join with any round ({@link #ask(String, InternVLChat.Images, GenerationConfig, Consumer)}); that
 * question must hold their {@code <image>} placeholders (only a first question gets "&lt;image&gt;\n" prepended
 * automatically, as in chat()). Sampled rounds share one generator, seeded from the first sampled round's
 * {@code seed}: a seeded session is reproducible as a whole, like successive chat() calls after one
 * {@code torch.manual_seed(seed)}.
 */
public final class ChatSession implements AutoCloseable {
    private final InternVLChat chat;
    private InternVLChat.Images images;          // every image of the conversation so far, in placeholder order
    private final List<Turn> history = new ArrayList<>();
    private KvCache cache;
    private TorchGenerator sampler;               // one stream over every sampled round, as after one torch.manual_seed
    private long[] cachedIds = new long[0];    // the ids whose keys/values the cache holds, in order
    private int lastReused;

    ChatSession(InternVLChat chat, InternVLChat.Images images) {
        this.chat = chat;
        this.images = images;
    }

    /** The rounds so far (question as asked, answer). */
    public List<Turn> history() {
        return List.copyOf(history);
    }

    /** Prompt positions the last round took from the cache instead of encoding them again. */
    public int lastReusedTokens() {
        return lastReused;
    }

    /** The images of the conversation so far (null: none). */
    public InternVLChat.Images images() {
        return images;
    }

    /** The images of a conversation followed by more (features concatenated in the current scope). */
    private static InternVLChat.Images joined(InternVLChat.Images first, InternVLChat.Images more) {
        if (more == null) return first;
        if (first == null) return more;
        List<Integer> patches = new ArrayList<>(first.numPatchesList());
        patches.addAll(more.numPatchesList());
        return new InternVLChat.Images(concat(0, first.features(), more.features()), patches);
    }

    /** Starts a new conversation: no history, no images, an empty cache (its memory is kept for reuse). */
    public void reset() {
        history.clear();
        images = null;
        cachedIds = new long[0];
        if (cache != null) cache.truncate(0);
        lastReused = 0;
    }

    /** Asks the next question; {@code onText} (may be null) receives the answer as it is generated. */
    public InternVLChat.Reply ask(String question, GenerationConfig generation, Consumer<String> onText) {
        return ask(question, null, generation, onText, null);
    }

    /**
     * Asks the next question with {@code moreImages} (may be null) joining the conversation after its images so
     * far; they stay only when the round succeeds. The question must hold their placeholders (see the class
     * comment).
     */
    public InternVLChat.Reply ask(String question, InternVLChat.Images moreImages, GenerationConfig generation,
                                  Consumer<String> onText) {
        return ask(question, moreImages, generation, onText, null);
    }

    InternVLChat.Reply ask(String question, GenerationConfig generation, Consumer<String> onText,
                           Generator.LogitsObserver logitsObserver) {
        return ask(question, null, generation, onText, logitsObserver);
    }

    private InternVLChat.Reply ask(String question, InternVLChat.Images moreImages, GenerationConfig generation,
                                   Consumer<String> onText, Generator.LogitsObserver logitsObserver) {
        InternVLChat.Images images = joined(this.images, moreImages);
        List<Turn> past = history.isEmpty() ? null : history;   // a first round follows chat(history=None)
        boolean hasImages = images != null;
        String asked = ChatPrompts.effectiveQuestion(question, past, hasImages);
        String query = chat.prompts().chatQuery(question, past, hasImages ? images.numPatchesList() : null);
        int[] ids = chat.tokenizer().encode(query);
        GenerationConfig config = chat.fitToContext(ids.length, chat.chatGeneration(generation));
        Qwen2ForCausalLM lm = chat.model().languageModel();
        if (cache == null) cache = lm.newCache(1, ids.length + config.maxNewTokens());

        // keep the longest cached prefix of this prompt, leaving at least one position to run for the logits
        int reuse = 0;
        while (reuse < Math.min(cachedIds.length, ids.length - 1) && cachedIds[reuse] == ids[reuse]) reuse++;
        cache.truncate(reuse);
        int imgContext = chat.imgContextId();
        int featuresUsed = 0;
        for (int i = 0; i < reuse; i++) if (ids[i] == imgContext) featuresUsed++;
        long[] fresh = new long[ids.length - reuse];
        for (int i = 0; i < fresh.length; i++) fresh[i] = ids[reuse + i];

        ChatTokenizer.TextStream stream = onText == null ? null : chat.tokenizer().textStream(true);
        Generator.Result result;
        try (Scope scope = Scope.open()) {
            Tensor features = hasImages ? images.features() : null;
            Tensor embeds = chat.model().inputEmbeddings(new long[][] {fresh}, features, featuresUsed, imgContext);
            if (config.doSample() && sampler == null) sampler = Generator.samplerFor(config);
            result = Generator.generate(lm, cache, embeds, null, null, config, stream == null ? null : (row, token) -> {
                if (config.isEos(token)) return;
                String piece = stream.next(token);
                if (!piece.isEmpty()) onText.accept(piece);
            }, logitsObserver, config.doSample() ? sampler : null);
        } catch (RuntimeException e) {
            cachedIds = new long[0];   // the cache content is unknown now: start afresh next round
            cache.truncate(0);
            throw e;
        }
        if (stream != null) {
            String rest = stream.finish();
            if (!rest.isEmpty()) onText.accept(rest);
        }
        int[] out = result.tokens().get(0);
        // the cache now holds the prompt and every generated token but the last (never fed back)
        cachedIds = new long[ids.length + out.length - 1];
        for (int i = 0; i < ids.length; i++) cachedIds[i] = ids[i];
        for (int i = 0; i + 1 < out.length; i++) cachedIds[ids.length + i] = out[i];
        if (cache.length() != cachedIds.length) {
            throw new IllegalStateException("KV cache holds " + cache.length() + " positions, expected " + cachedIds.length);
        }
        lastReused = reuse;
        this.images = images;
        String response = chat.answer(out);
        history.add(new Turn(asked, response));
        return new InternVLChat.Reply(response, List.copyOf(history), query, ids, out, result.reasons().get(0));
    }

    @Override
    public void close() {
        if (cache != null) cache.close();
        cache = null;
        cachedIds = new long[0];
    }
}
