package dev.zoetrope.models.internvl;

import dev.zoetrope.core.CheckpointException;
import dev.zoetrope.core.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The checkpoint loader: what it reads from the fixture's InternVL2-1B-layout folder, and its refusals. */
class InternVLLoaderTest {
    @TempDir
    Path tmp;

    @Test
    void readsTheOriginalLayout() {
        try (InternVLChatModel model = InternVLChatModel.load(InternVlFixtures.modelDir())) {
            InternVLChatConfig c = model.config();
            assertEquals("Hermes-2", c.template());
            assertEquals("v2", c.psVersion());
            assertEquals(-1, c.selectLayer());
            assertEquals(448, c.imageSize());
            assertEquals(256, c.numImageToken());
            assertEquals(2, c.shuffleFactor());
            assertTrue(c.dynamicImageSize() && c.useThumbnail());
            assertEquals(1, c.minDynamicPatch());
            assertEquals(12, c.maxDynamicPatch());
            assertNull(c.systemMessage());
            assertEquals("layer_norm", c.visionConfig().normType());
            assertEquals(1e6, c.llmConfig().ropeTheta());
            assertEquals(2, c.llmConfig().numKeyValueHeads());
            assertEquals(16, c.llmConfig().headDim());
            assertEquals(false, c.llmConfig().tieWordEmbeddings());
            assertEquals(List.of(1014), c.llmConfig().eosTokenIds());
        }
    }

    /** A folder with the fixture's config changed by {@code edit} and its BF16 weights linked in. */
    private Path variant(Consumer<Map<String, Object>> edit) throws IOException {
        Path src = InternVlFixtures.modelDir();
        Map<String, Object> config = Json.parseObject(Files.readString(src.resolve("config.json")));
        edit.accept(config);
        Path dir = Files.createDirectories(tmp.resolve("variant"));
        Files.writeString(dir.resolve("config.json"), Json.write(config));
        Files.createSymbolicLink(dir.resolve("model.safetensors"), src.resolve("model.safetensors"));
        return dir;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> sub(Map<String, Object> config, String key) {
        return (Map<String, Object>) config.get(key);
    }

    private static String failure(Path dir) {
        return assertThrows(CheckpointException.class, () -> InternVLChatModel.load(dir).close()).getMessage();
    }

    @Test
    void missingConfigIsNamed() {
        String m = failure(tmp);
        assertTrue(m.contains(tmp.toString()) && m.contains("no config.json"), m);
    }

    @Test
    void transformersNativeLayoutIsRecognised() throws IOException {
        Path dir = variant(c -> {
            c.put("architectures", List.of("InternVLForConditionalGeneration"));
            c.put("model_type", "internvl");
        });
        String m = failure(dir);
        assertTrue(m.contains("transformers-native InternVL layout") && m.contains("InternVLChatModel"), m);
    }

    @Test
    void otherModelsAreRefused() throws IOException {
        Path dir = variant(c -> {
            c.put("architectures", List.of("LlamaForCausalLM"));
            c.put("model_type", "llama");
        });
        String m = failure(dir);
        assertTrue(m.contains("not an InternVL chat checkpoint") && m.contains("LlamaForCausalLM"), m);
    }

    @Test
    void unsupportedLanguageModelIsNamed() throws IOException {
        Path dir = variant(c -> sub(c, "llm_config").put("architectures", List.of("InternLM2ForCausalLM")));
        String m = failure(dir);
        assertTrue(m.contains("InternLM2ForCausalLM is not supported yet") && m.contains("config.json"), m);
    }

    @Test
    void unknownTemplateListsTheKnownOnes() throws IOException {
        Path dir = variant(c -> c.put("template", "vicuna_v1.1"));
        String m = failure(dir);
        assertTrue(m.contains("vicuna_v1.1") && m.contains("Hermes-2") && m.contains("phi3-chat"), m);
    }

    @Test
    void configAndWeightsThatDisagreeNameTheTensor() throws IOException {
        Path dir = variant(c -> sub(c, "vision_config").put("num_hidden_layers", 3L));
        String m = failure(dir);
        assertTrue(m.contains("model.safetensors") && m.contains("vision_model.encoder.layers.2."), m);

        Path wider = Files.createDirectories(tmp.resolve("wider"));
        Map<String, Object> config = Json.parseObject(Files.readString(InternVlFixtures.modelDir().resolve("config.json")));
        sub(config, "llm_config").put("intermediate_size", 256L);
        Files.writeString(wider.resolve("config.json"), Json.write(config));
        Files.createSymbolicLink(wider.resolve("model.safetensors"), InternVlFixtures.modelDir().resolve("model.safetensors"));
        m = failure(wider);
        assertTrue(m.contains("language_model.model.layers.0.mlp.gate_proj.weight") && m.contains("[128, 64]")
                && m.contains("[256, 64]"), m);
    }

    @Test
    void weightsOfAnotherModelAreRefused() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("llm-only"));
        Files.copy(InternVlFixtures.modelDir().resolve("config.json"), dir.resolve("config.json"));
        Files.createSymbolicLink(dir.resolve("model.safetensors"), InternVlFixtures.folder().resolve("cases/llm.safetensors"));
        String m = failure(dir);
        assertTrue(m.contains("not InternVL2 weights"), m);
    }
}
