package dev.zoetrope.hub;

import dev.zoetrope.core.Json;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** File choice on listings shaped like real repositories. */
class FileSelectionTest {
    /** The layout of stable-diffusion-v1-5/stable-diffusion-v1-5 (abridged). */
    private static final List<String> SD15 = List.of(
            ".gitattributes", "README.md", "model_index.json", "v1-5-pruned-emaonly.ckpt", "v1-5-pruned-emaonly.safetensors",
            "v1-inference.yaml",
            "feature_extractor/preprocessor_config.json",
            "safety_checker/config.json", "safety_checker/model.fp16.safetensors", "safety_checker/model.safetensors",
            "safety_checker/pytorch_model.bin", "safety_checker/pytorch_model.fp16.bin",
            "scheduler/scheduler_config.json",
            "text_encoder/config.json", "text_encoder/model.fp16.safetensors", "text_encoder/model.safetensors",
            "text_encoder/pytorch_model.bin", "text_encoder/flax_model.msgpack",
            "tokenizer/merges.txt", "tokenizer/special_tokens_map.json", "tokenizer/tokenizer_config.json", "tokenizer/vocab.json",
            "unet/config.json", "unet/diffusion_pytorch_model.bin", "unet/diffusion_pytorch_model.fp16.bin",
            "unet/diffusion_pytorch_model.fp16.safetensors", "unet/diffusion_pytorch_model.non_ema.bin",
            "unet/diffusion_pytorch_model.non_ema.safetensors", "unet/diffusion_pytorch_model.safetensors",
            "vae/config.json", "vae/diffusion_pytorch_model.bin", "vae/diffusion_pytorch_model.fp16.safetensors",
            "vae/diffusion_pytorch_model.safetensors", "vae/diffusion_pytorch_model.onnx");

    private static final Json.Obj SD15_INDEX = Json.Obj.of(Json.parse("""
            {"_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.6.0",
             "feature_extractor": ["transformers", "CLIPImageProcessor"],
             "safety_checker": ["stable_diffusion", "StableDiffusionSafetyChecker"],
             "scheduler": ["diffusers", "PNDMScheduler"], "text_encoder": ["transformers", "CLIPTextModel"],
             "tokenizer": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "UNet2DConditionModel"],
             "vae": ["diffusers", "AutoencoderKL"], "image_encoder": [null, null], "requires_safety_checker": true}"""));

    @Test
    void pipelineTakesPlainSafetensorsPerComponent() {
        List<String> files = FileSelection.model().select(SD15, SD15_INDEX);
        assertEquals(List.of("feature_extractor/preprocessor_config.json", "model_index.json",
                "safety_checker/config.json", "safety_checker/model.safetensors", "scheduler/scheduler_config.json",
                "text_encoder/config.json", "text_encoder/model.safetensors",
                "tokenizer/merges.txt", "tokenizer/special_tokens_map.json", "tokenizer/tokenizer_config.json", "tokenizer/vocab.json",
                "unet/config.json", "unet/diffusion_pytorch_model.safetensors",
                "vae/config.json", "vae/diffusion_pytorch_model.safetensors"), files);
    }

    @Test
    void variantWhereAvailable() {
        List<String> files = FileSelection.components(List.of("unet", "vae", "text_encoder", "tokenizer")).variant("fp16")
                .select(SD15, SD15_INDEX);
        assertTrue(files.contains("unet/diffusion_pytorch_model.fp16.safetensors"));
        assertTrue(files.contains("vae/diffusion_pytorch_model.fp16.safetensors"));
        assertTrue(files.contains("text_encoder/model.fp16.safetensors"));
        assertTrue(files.stream().noneMatch(f -> f.endsWith("diffusion_pytorch_model.safetensors") || f.endsWith(".bin")), files.toString());
        assertTrue(files.stream().noneMatch(f -> f.startsWith("safety_checker/")));
        List<String> nonEma = FileSelection.components(List.of("unet")).variant("non_ema").select(SD15, SD15_INDEX);
        assertEquals(List.of("model_index.json", "unet/config.json", "unet/diffusion_pytorch_model.non_ema.safetensors"), nonEma);
    }

    @Test
    void shardedVariantsAndBinFallback() {
        List<String> listing = List.of("model_index.json",
                "transformer/config.json",
                "transformer/diffusion_pytorch_model-00001-of-00002.safetensors",
                "transformer/diffusion_pytorch_model-00002-of-00002.safetensors",
                "transformer/diffusion_pytorch_model.safetensors.index.json",
                "transformer/diffusion_pytorch_model.fp16-00001-of-00002.safetensors",
                "transformer/diffusion_pytorch_model.fp16-00002-of-00002.safetensors",
                "transformer/diffusion_pytorch_model.safetensors.index.fp16.json",
                "old/config.json", "old/pytorch_model.bin");
        Json.Obj index = Json.Obj.of(Json.parse("{\"transformer\": [\"diffusers\", \"X\"], \"old\": [\"transformers\", \"Y\"]}"));
        assertEquals(List.of("model_index.json", "old/config.json", "old/pytorch_model.bin", "transformer/config.json",
                "transformer/diffusion_pytorch_model-00001-of-00002.safetensors",
                "transformer/diffusion_pytorch_model-00002-of-00002.safetensors",
                "transformer/diffusion_pytorch_model.safetensors.index.json"), FileSelection.model().select(listing, index));
        assertEquals(List.of("model_index.json", "transformer/config.json",
                "transformer/diffusion_pytorch_model.fp16-00001-of-00002.safetensors",
                "transformer/diffusion_pytorch_model.fp16-00002-of-00002.safetensors",
                "transformer/diffusion_pytorch_model.safetensors.index.fp16.json"),
                FileSelection.components(List.of("transformer")).variant("fp16").select(listing, index));
    }

    @Test
    void transformersRepoTakesEverythingButOtherFormats() {
        List<String> listing = List.of(".gitattributes", "README.md", "config.json", "configuration_internvl_chat.py",
                "model.safetensors", "pytorch_model.bin", "tokenizer.json", "tokenizer_config.json", "examples/image1.jpg",
                "sd_xl_base_1.0.safetensors");
        assertEquals(List.of("config.json", "configuration_internvl_chat.py", "model.safetensors", "sd_xl_base_1.0.safetensors",
                "tokenizer.json", "tokenizer_config.json"), FileSelection.model().select(listing, null));
        assertThrows(IllegalArgumentException.class, () -> FileSelection.components(List.of("unet")).select(listing, null));
    }

    @Test
    void patternsAreFnmatch() {
        FileSelection p = FileSelection.patterns(List.of("unet/*", "*.json", "vae/diffusion_pytorch_model.[bs]*"));
        List<String> files = p.select(SD15, SD15_INDEX);
        assertTrue(files.contains("unet/diffusion_pytorch_model.fp16.bin"));
        assertTrue(files.contains("tokenizer/vocab.json"), "'*' crosses '/' as in fnmatch");
        assertTrue(files.contains("vae/diffusion_pytorch_model.bin") && files.contains("vae/diffusion_pytorch_model.safetensors"));
        assertTrue(!files.contains("vae/diffusion_pytorch_model.onnx") && !files.contains("README.md"));
        assertEquals(List.of("tokenizer/merges.txt", "tokenizer/special_tokens_map.json", "tokenizer/tokenizer_config.json",
                "tokenizer/vocab.json"), FileSelection.patterns(List.of("tokenizer/")).select(SD15, SD15_INDEX));
    }

    @Test
    void variantNames() {
        assertEquals("fp16", FileSelection.variantOf("model.fp16.safetensors"));
        assertEquals("fp16", FileSelection.variantOf("model.fp16-00001-of-00003.safetensors"));
        assertEquals("bf16", FileSelection.variantOf("model.safetensors.index.bf16.json"));
        assertNull(FileSelection.variantOf("model.safetensors"));
        assertNull(FileSelection.variantOf("model-00001-of-00003.safetensors"));
        assertNull(FileSelection.variantOf("model.safetensors.index.json"));
        assertNull(FileSelection.variantOf("sd_xl_base_1.0.safetensors"));
        assertThrows(IllegalArgumentException.class, () -> FileSelection.model().variant("../x"));
    }
}
