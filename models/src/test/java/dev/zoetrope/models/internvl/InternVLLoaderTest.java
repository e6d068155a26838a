package dev.zoetrope.models.internvl;

import dev.zoetrope.core.CheckpointException;
import dev.zoetrope.core.Json;
import dev.zoetrope.core.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The checkpoint loader: what it reads from the fixture's InternVL2-1B-layout folder, and its refusals. */
class InternVLLoaderTest {
    @TempDir
    Path tmp;

    /** Every setting the loader reads equals the config.json value (read here on its own), reference defaults aside. */
    @Test
    void readsTheOriginalLayout() {
        Json.Obj json = Fixtures.json(InternVlFixtures.modelDir().resolve("config.json"));
        Json.Obj vision = json.obj("vision_config"), llm = json.obj("llm_config");
        try (InternVLChatModel model = InternVLChatModel.load(InternVlFixtures.modelDir())) {
            InternVLChatConfig c = model.config();
            assertEquals(json.string("template", null), c.template());
            assertEquals(json.string("ps_version", null), c.psVersion());
            assertEquals(json.intValue("select_layer", 0), c.selectLayer());
            int imageSize = json.intValue("force_image_size", vision.intValue("image_size", 0));
            assertEquals(imageSize, c.imageSize());
            double ratio = json.doubleValue("downsample_ratio", 0);
            int side = imageSize / vision.intValue("patch_size", 0);
            assertEquals((int) (side * side * ratio * ratio), c.numImageToken());
            assertEquals((int) Math.round(1 / ratio), c.shuffleFactor());
            assertEquals(json.bool("dynamic_image_size", false), c.dynamicImageSize());
            assertEquals(json.bool("use_thumbnail", false), c.useThumbnail());
            assertEquals(json.intValue("min_dynamic_patch", 0), c.minDynamicPatch());
            assertEquals(json.intValue("max_dynamic_patch", 0), c.maxDynamicPatch());
            assertEquals(json.string("system_message", null), c.systemMessage());
            assertEquals(vision.string("norm_type", null), c.visionConfig().normType());
            assertEquals(llm.doubleValue("rope_theta", 0), c.llmConfig().ropeTheta());
            assertEquals(llm.intValue("num_key_value_heads", 0), c.llmConfig().numKeyValueHeads());
            assertEquals(llm.intValue("hidden_size", 0) / llm.intValue("num_attention_heads", 1), c.llmConfig().headDim());
            assertEquals(llm.bool("tie_word_embeddings", true), c.llmConfig().tieWordEmbeddings());
            Object eos = llm.raw("eos_token_id");
            List<Integer> eosIds = eos instanceof List<?> l ? l.stream().map(o -> ((Number) o).intValue()).toList()
                    : List.of(((Number) eos).intValue());
            assertEquals(eosIds, c.llmConfig().eosTokenIds());
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
        Json.Obj json = Fixtures.json(InternVlFixtures.modelDir().resolve("config.json"));
        int layers = json.obj("vision_config").intValue("num_hidden_layers", 0);
        Path dir = variant(c -> sub(c, "vision_config").put("num_hidden_layers", (long) layers + 1));
        String m = failure(dir);
        assertTrue(m.contains("model.safetensors") && m.contains("vision_model.encoder.layers." + layers + "."), m);

        Json.Obj llm = json.obj("llm_config");
        int hidden = llm.intValue("hidden_size", 0), inter = llm.intValue("intermediate_size", 0);
        Path wider = Files.createDirectories(tmp.resolve("wider"));
        Map<String, Object> config = Json.parseObject(Files.readString(InternVlFixtures.modelDir().resolve("config.json")));
        sub(config, "llm_config").put("intermediate_size", 2L * inter);
        Files.writeString(wider.resolve("config.json"), Json.write(config));
        Files.createSymbolicLink(wider.resolve("model.safetensors"), InternVlFixtures.modelDir().resolve("model.safetensors"));
        m = failure(wider);
        assertTrue(m.contains("language_model.model.layers.0.mlp.gate_proj.weight") && m.contains("[" + inter + ", " + hidden + "]")
                && m.contains("[" + 2 * inter + ", " + hidden + "]"), m);
    }

    @Test
    void weightsOfAnotherModelAreRefused() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("llm-only"));
        Files.copy(InternVlFixtures.modelDir().resolve("config.json"), dir.resolve("config.json"));
        Files.createSymbolicLink(dir.resolve("model.safetensors"), InternVlFixtures.cases("llm").get(0).tensors());
        String m = failure(dir);
        assertTrue(m.contains("not InternVL2 weights"), m);
    }
}
