package dev.zoetrope.models.internvl;

import dev.zoetrope.models.internvl.ConversationTemplate.Turn;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The built-in templates against prompts written out by hand from conversation.py's definitions (MPT style:
 * system + sep, role + message + sep per turn, the open turn as its role). Hermes-2 is also checked against
 * the reference's own prompts in InternVLChatParityTest.
 */
class ConversationTemplateTest {
    static final String SYS = "你是由上海人工智能实验室联合商汤科技开发的书生多模态大模型，英文名叫InternVL, 是一个有用无害的人工智能助手。";
    static final List<Turn> ONE_ROUND = List.of(new Turn("Hi", "Hello!"));

    @Test
    void hermes2() {
        ConversationTemplate t = ConversationTemplate.named("Hermes-2");
        assertEquals("<|im_start|>system\n" + SYS + "<|im_end|><|im_start|>user\nHi<|im_end|><|im_start|>assistant\nHello!"
                + "<|im_end|><|im_start|>user\nMore?<|im_end|><|im_start|>assistant\n", t.chatPrompt(ONE_ROUND, "More?"));
        assertEquals("<|im_end|>", t.stopToken());
        assertEquals("<|endoftext|>", t.stopStr());
    }

    @Test
    void internlm2ChatIsTheSamePromptAsHermes2() {
        assertEquals(ConversationTemplate.named("Hermes-2").chatPrompt(ONE_ROUND, "More?"),
                ConversationTemplate.named("internlm2-chat").chatPrompt(ONE_ROUND, "More?"));
        assertEquals("<|im_end|>", ConversationTemplate.named("internlm2-chat").stopToken());
    }

    @Test
    void phi3Chat() {
        ConversationTemplate t = ConversationTemplate.named("phi3-chat");
        assertEquals("<|system|>\n" + SYS + "<|end|><|user|>\nHi<|end|><|assistant|>\nHello!<|end|><|user|>\nMore?<|end|>"
                + "<|assistant|>\n", t.chatPrompt(ONE_ROUND, "More?"));
        assertEquals("<|end|>", t.stopToken());
    }

    @Test
    void internvl25HasANewlineAfterEachSeparatorAndStopsAtTheStrippedOne() {
        ConversationTemplate t = ConversationTemplate.named("internvl2_5");
        assertTrue(t.chatPrompt(List.of(), "Q").endsWith("<|im_end|>\n<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n"));
        assertEquals("<|im_end|>", t.stopToken());
    }

    @Test
    void anEmptyAnswerIsWrittenAsAnOpenTurnAsPythonTruthinessDoes() {
        ConversationTemplate t = ConversationTemplate.named("Hermes-2").withSystemMessage("S");
        assertEquals("<|im_start|>system\nS<|im_end|><|im_start|>user\nA<|im_end|><|im_start|>assistant\n"
                + "<|im_start|>user\nB<|im_end|><|im_start|>assistant\n", t.chatPrompt(List.of(new Turn("A", "")), "B"));
    }

    @Test
    void unknownNamesAndStylesAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ConversationTemplate.named("llava"));
        assertTrue(e.getMessage().contains("Hermes-2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ConversationTemplate.fromJson("x",
                dev.zoetrope.core.Json.Obj.of(dev.zoetrope.core.Json.parse("{\"sep_style\": \"LLAMA2\"}"))));
        assertTrue(e.getMessage().contains("LLAMA2"), e.getMessage());
    }

    @Test
    void promptPrefixesAsTheModelCardWritesThem() {
        assertEquals("Image-1: <image>\nImage-2: <image>\n", ChatPrompts.imagePrefix(2));
        assertEquals("Frame1: <image>\nFrame2: <image>\nFrame3: <image>\n", ChatPrompts.videoPrefix(3));
        assertEquals("<image>\nQ", ChatPrompts.effectiveQuestion("Q", null, true));
        assertEquals("Q", ChatPrompts.effectiveQuestion("Q", List.of(), true));    // history given, even empty: no prefix
        assertEquals("Q", ChatPrompts.effectiveQuestion("Q", null, false));
        ChatPrompts prompts = new ChatPrompts(ConversationTemplate.named("Hermes-2").withSystemMessage("S"), 2);
        assertEquals("a<img><IMG_CONTEXT><IMG_CONTEXT></img>b<img><IMG_CONTEXT><IMG_CONTEXT><IMG_CONTEXT><IMG_CONTEXT></img>c<image>",
                prompts.expandImages("a<image>b<image>c<image>", List.of(1, 2)));
        assertEquals("a<image>b", ChatPrompts.compactQuery("a<img><IMG_CONTEXT><IMG_CONTEXT></img>b"));
    }
}
