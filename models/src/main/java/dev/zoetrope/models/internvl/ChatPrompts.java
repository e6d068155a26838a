package dev.zoetrope.models.internvl;

import dev.zoetrope.models.internvl.ConversationTemplate.Turn;

import java.util.List;

import static dev.zoetrope.models.internvl.InternVLChatModel.IMG_CONTEXT_TOKEN;
import static dev.zoetrope.models.internvl.InternVLChatModel.IMG_END_TOKEN;
import static dev.zoetrope.models.internvl.InternVLChatModel.IMG_START_TOKEN;

/**
 * The prompt strings InternVL's chat() and batch_chat() build, before tokenisation: the conversation
 * template, the automatic {@code "<image>\n"} prefix, and each {@code <image>} placeholder expanded to
 * {@code <img>} + {@code <IMG_CONTEXT>}×(num_image_token·tiles) + {@code </img>}.
 */
public record ChatPrompts(ConversationTemplate template, int numImageToken) {
    public static final String IMAGE_PLACEHOLDER = "<image>";

    /** The template and system message of a checkpoint's config. */
    public static ChatPrompts of(InternVLChatConfig config) {
        ConversationTemplate t = ConversationTemplate.named(config.template());
        return new ChatPrompts(config.systemMessage() != null ? t.withSystemMessage(config.systemMessage()) : t,
                config.numImageToken());
    }

    /** Model-card prefix for several images in one question: "Image-1: &lt;image&gt;\nImage-2: &lt;image&gt;\n…". */
    public static String imagePrefix(int images) {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= images; i++) sb.append("Image-").append(i).append(": ").append(IMAGE_PLACEHOLDER).append('\n');
        return sb.toString();
    }

    /** Model-card prefix for video frames (one tile each): "Frame1: &lt;image&gt;\nFrame2: &lt;image&gt;\n…". */
    public static String videoPrefix(int frames) {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= frames; i++) sb.append("Frame").append(i).append(": ").append(IMAGE_PLACEHOLDER).append('\n');
        return sb.toString();
    }

    /**
     * The question chat() really asks: with images, no history (null, not an empty list) and no placeholder,
     * "&lt;image&gt;\n" is prepended.
     */
    public static String effectiveQuestion(String question, List<Turn> history, boolean hasImages) {
        return history == null && hasImages && !question.contains(IMAGE_PLACEHOLDER) ? IMAGE_PLACEHOLDER + "\n" + question : question;
    }

    /**
     * The exact string chat() tokenises: the template prompt (history, question, open answer) with the first
     * {@code numPatchesList.size()} placeholders, left to right and history included, expanded.
     *
     * @param history        null for a first question, else the past rounds
     * @param numPatchesList tiles per image, null or empty without images
     */
    public String chatQuery(String question, List<Turn> history, List<Integer> numPatchesList) {
        boolean hasImages = numPatchesList != null && !numPatchesList.isEmpty();
        String q = effectiveQuestion(question, history, hasImages);
        String prompt = template.chatPrompt(history == null ? List.of() : history, q);
        return requireAllExpanded(expandImages(prompt, hasImages ? numPatchesList : List.of()), hasImages ? numPatchesList.size() : 0);
    }

    /**
     * The reference leaves a placeholder without an image as the literal text "&lt;image&gt;", which only ever
     * comes from a mistake (a question written for more images than were given); this says so instead.
     */
    private static String requireAllExpanded(String query, int images) {
        int extra = 0;
        for (int at = query.indexOf(IMAGE_PLACEHOLDER); at >= 0; at = query.indexOf(IMAGE_PLACEHOLDER, at + 1)) extra++;
        if (extra > 0) {
            int placeholders = images + extra;
            throw new IllegalArgumentException("the prompt has " + placeholders + " " + IMAGE_PLACEHOLDER
                    + (placeholders == 1 ? " placeholder" : " placeholders") + " but "
                    + (images == 0 ? "no image was" : images == 1 ? "only 1 image was" : "only " + images + " images were")
                    + " given: give one image per placeholder, or remove the extra " + IMAGE_PLACEHOLDER);
        }
        return query;
    }

    /** batch_chat's query for one row: a first question with one image of {@code tiles} tiles (null = no image). */
    public String batchQuery(String question, Integer tiles) {
        String q = effectiveQuestion(question, null, tiles != null);
        String prompt = template.chatPrompt(List.of(), q);
        return requireAllExpanded(tiles == null ? prompt : expandImages(prompt, List.of(tiles)), tiles == null ? 0 : 1);
    }

    /**
     * Replaces placeholders left to right, one per entry. Where the reference's {@code str.replace(..., 1)}
     * would silently skip a missing placeholder (and fail later on a feature count), this says so; placeholders
     * left over stay as text, as in the reference ({@link #chatQuery} refuses them).
     */
    public String expandImages(String prompt, List<Integer> numPatchesList) {
        StringBuilder out = new StringBuilder();
        int from = 0;
        for (int tiles : numPatchesList) {
            int at = prompt.indexOf(IMAGE_PLACEHOLDER, from);
            if (at < 0) {
                throw new IllegalArgumentException("the prompt has fewer " + IMAGE_PLACEHOLDER + " placeholders than images ("
                        + numPatchesList.size() + "): put one " + IMAGE_PLACEHOLDER + " per image in the question");
            }
            out.append(prompt, from, at).append(IMG_START_TOKEN)
                    .append(IMG_CONTEXT_TOKEN.repeat(numImageToken * tiles)).append(IMG_END_TOKEN);
            from = at + IMAGE_PLACEHOLDER.length();
        }
        return out.append(prompt, from, prompt.length()).toString();
    }

    /** A query with every image block shown as &lt;image&gt; again (what chat(verbose=True) prints). */
    public static String compactQuery(String query) {
        return query.replace(IMG_CONTEXT_TOKEN, "").replace(IMG_START_TOKEN + IMG_END_TOKEN, IMAGE_PLACEHOLDER);
    }
}
