package dev.zoetrope.models.ldm;

import dev.zoetrope.core.CheckpointException;
import dev.zoetrope.core.SafeTensors;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.testing.Fixtures;
import dev.zoetrope.models.clip.ClipTextConfig;
import dev.zoetrope.models.clip.ClipTextModel;
import dev.zoetrope.models.testing.CaseData;
import dev.zoetrope.models.testing.LdmFiles;
import dev.zoetrope.models.unet.UNet2DConditionConfig;
import dev.zoetrope.models.unet.UNet2DConditionModel;
import dev.zoetrope.models.vae.AutoencoderKL;
import dev.zoetrope.models.vae.AutoencoderKLConfig;
import dev.zoetrope.models.vae.DiagonalGaussian;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.zoetrope.core.Ops.concat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Single-file (LDM key names) checkpoints: the tiny fixture models are written out under the original
 * CompVis/Stability names (renamed here by an independent diffusers → LDM table), loaded back through
 * {@link LdmCheckpoint}, and must give bit-identical outputs to the diffusers-layout load; inferred configs must
 * equal the diffusers configs.
 */
class LdmCheckpointTest {
    @TempDir
    Path tmp;

    private static Path sdDir() {
        return Fixtures.modelDir("sd", "unet");
    }

    /** The top-left corner of an [N, C, H, W] tensor, at most height × width. */
    private static Tensor corner(Tensor t, int height, int width) {
        return t.slice(2, 0, Math.min(height, t.dim(2))).slice(3, 0, Math.min(width, t.dim(3)));
    }

    @Test
    void sd1SingleFileMatchesDiffusersLayout() throws IOException {
        Path file = tmp.resolve("tiny-sd-ldm.safetensors");
        UNet2DConditionConfig unetConfig = UNet2DConditionConfig.load(sdDir().resolve("unet/config.json"));
        AutoencoderKLConfig vaeConfig = AutoencoderKLConfig.load(sdDir().resolve("vae/config.json"));
        LdmFiles.writeSd1(sdDir(), file);

        try (LdmCheckpoint ckpt = LdmCheckpoint.open(file)) {
            assertTrue(ckpt.hasUnet());
            assertTrue(ckpt.hasVae());
            assertEquals(LdmCheckpoint.TextEncoderLayout.OPENAI_CLIP, ckpt.textEncoderLayout());
            assertEquals(LdmCheckpoint.ModelType.V1, ckpt.modelType());
            assertSameUnetConfig(unetConfig, ckpt.unetConfig());
            assertSameVaeConfig(vaeConfig, ckpt.vaeConfig());

            CaseData unetCase = new CaseData(Fixtures.cases("sd", "unet").get(0));
            try (unetCase;
                 UNet2DConditionModel single = ckpt.unet();
                 UNet2DConditionModel diffusers = UNet2DConditionModel.load(sdDir().resolve("unet"));
                 Scope s = Scope.open()) {
                // an odd size (9×7) also takes the upsample-to-skip-size path
                Tensor sample = corner(unetCase.largestInput("sample"), 9, 7);
                Tensor context = unetCase.get("encoder_hidden_states");
                assertArrayEquals(diffusers.forward(sample, 500f, context).toFloatArray(),
                        single.forward(sample, 500f, context).toFloatArray());
            }

            CaseData vaeCase = new CaseData(Fixtures.cases("sd", "vae").get(0));
            try (vaeCase;
                 AutoencoderKL single = ckpt.vae();
                 AutoencoderKL diffusers = AutoencoderKL.load(sdDir().resolve("vae"));
                 Scope s = Scope.open()) {
                Tensor x = corner(vaeCase.largestInput("x"), 16, 24);
                DiagonalGaussian a = single.encode(x), b = diffusers.encode(x);
                assertArrayEquals(b.mean().toFloatArray(), a.mean().toFloatArray());
                assertArrayEquals(b.logvar().toFloatArray(), a.logvar().toFloatArray());
                Tensor z = corner(vaeCase.largestInput("z"), 8, 12);
                assertArrayEquals(diffusers.decode(z).toFloatArray(), single.decode(z).toFloatArray());
            }

            // Real CLIP towers use 64-wide heads; other widths (tiny test towers) cannot be inferred: the config must be given.
            ClipTextConfig textConfig = ClipTextConfig.load(sdDir().resolve("text_encoder/config.json"));
            if (textConfig.hiddenSize() % 64 != 0) {
                CheckpointException e = assertThrows(CheckpointException.class, ckpt::textEncoderConfig);
                assertTrue(e.getMessage().contains("head count"), e.getMessage());
            } else {
                assertEquals(textConfig.hiddenSize() / 64, ckpt.textEncoderConfig().numAttentionHeads());
            }
            CaseData textCase = new CaseData(Fixtures.cases("sd", "text_encoder").get(0));
            try (textCase;
                 ClipTextModel single = ckpt.textEncoder(textConfig);
                 ClipTextModel diffusers = ClipTextModel.load(sdDir().resolve("text_encoder"));
                 Scope s = Scope.open()) {
                Tensor ids = textCase.get("input_ids");
                ids = ids.slice(0, 0, Math.min(3, ids.dim(0)));
                assertArrayEquals(diffusers.encode(ids, 0).toFloatArray(), single.encode(ids, 0).toFloatArray());
                assertArrayEquals(diffusers.encode(ids, 2).toFloatArray(), single.encode(ids, 2).toFloatArray());
            }
        }
    }

    @Test
    void standaloneLdmVaeFile() throws IOException {
        Path file = tmp.resolve("vae-ft.safetensors");
        AutoencoderKLConfig vaeConfig = AutoencoderKLConfig.load(sdDir().resolve("vae/config.json"));
        try (SafeTensors vae = SafeTensors.open(sdDir().resolve("vae/diffusion_pytorch_model.safetensors"));
             Scope s = Scope.open()) {
            Map<String, Tensor> ldm = new LinkedHashMap<>();
            for (String n : vae.names()) ldm.put(LdmFiles.ldmVaeName(n, vaeConfig.blockOutChannels().length), vae.get(n));
            SafeTensors.write(file, ldm, Map.of());
        }
        try (LdmCheckpoint ckpt = LdmCheckpoint.open(file);
             AutoencoderKL single = ckpt.vae();
             AutoencoderKL diffusers = AutoencoderKL.load(sdDir().resolve("vae"));
             CaseData data = new CaseData(Fixtures.cases("sd", "vae").get(0));
             Scope s = Scope.open()) {
            assertFalse(ckpt.hasUnet());
            assertEquals(LdmCheckpoint.TextEncoderLayout.NONE, ckpt.textEncoderLayout());
            Tensor z = corner(data.largestInput("z"), 6, 6);
            assertArrayEquals(diffusers.decode(z).toFloatArray(), single.decode(z).toFloatArray());
        }
    }

    @Test
    void sd2OpenClipTextEncoderDropsTheLastLayer() throws IOException {
        // the CLIP text encoder case of the video fixtures (OpenCLIP-style, as I2VGen-XL's)
        Fixtures.Case fixture = Fixtures.cases("video", "text_encoder").stream()
                .filter(c -> "clip_text_model".equals(Fixtures.json(c.modelDir().resolve("text_encoder/config.json"))
                        .string("model_type", null)))
                .findFirst().orElseThrow(() -> new IllegalStateException("no CLIP text_encoder case in the video fixtures"));
        Path textDir = fixture.modelDir().resolve("text_encoder");
        ClipTextConfig config = ClipTextConfig.load(textDir.resolve("config.json"));
        Path file = tmp.resolve("openclip.safetensors");
        try (SafeTensors text = SafeTensors.open(textDir.resolve("model.safetensors")); Scope s = Scope.open()) {
            String p = "cond_stage_model.model.";
            Map<String, Tensor> ldm = new LinkedHashMap<>();
            ldm.put(p + "token_embedding.weight", text.get("embeddings.token_embedding.weight"));
            ldm.put(p + "positional_embedding", text.get("embeddings.position_embedding.weight"));
            ldm.put(p + "ln_final.weight", text.get("final_layer_norm.weight"));
            ldm.put(p + "ln_final.bias", text.get("final_layer_norm.bias"));
            ldm.put(p + "text_projection", Tensor.zeros(dev.zoetrope.core.DType.F32, config.hiddenSize(), config.hiddenSize()));
            int layers = config.numHiddenLayers();
            for (int i = 0; i <= layers; i++) {
                // one extra resblock at the end: SD 2.x conditions on the penultimate layer, so it must be dropped
                String from = "encoder.layers." + (i == layers ? 0 : i) + ".";
                String to = p + "transformer.resblocks." + i + ".";
                for (String wb : List.of("weight", "bias")) {
                    ldm.put(to + "ln_1." + wb, text.get(from + "layer_norm1." + wb));
                    ldm.put(to + "ln_2." + wb, text.get(from + "layer_norm2." + wb));
                    ldm.put(to + "mlp.c_fc." + wb, text.get(from + "mlp.fc1." + wb));
                    ldm.put(to + "mlp.c_proj." + wb, text.get(from + "mlp.fc2." + wb));
                    ldm.put(to + "attn.out_proj." + wb, text.get(from + "self_attn.out_proj." + wb));
                    ldm.put(to + "attn.in_proj_" + wb, concat(0, text.get(from + "self_attn.q_proj." + wb),
                            text.get(from + "self_attn.k_proj." + wb), text.get(from + "self_attn.v_proj." + wb)));
                }
            }
            SafeTensors.write(file, ldm, Map.of());
        }
        try (LdmCheckpoint ckpt = LdmCheckpoint.open(file);
             CaseData data = new CaseData(fixture)) {
            assertEquals(LdmCheckpoint.TextEncoderLayout.OPEN_CLIP, ckpt.textEncoderLayout());
            assertFalse(ckpt.hasUnet());
            assertEquals(layers(ckpt), config.numHiddenLayers());
            try (ClipTextModel single = ckpt.textEncoder(config);
                 ClipTextModel diffusers = ClipTextModel.load(textDir);
                 Scope s = Scope.open()) {
                assertFalse(single.hasProjection());
                Tensor ids = data.get("input_ids");
                Tensor out = single.encode(ids, 0);
                assertArrayEquals(diffusers.encode(ids, 0).toFloatArray(), out.toFloatArray());
                data.assertClose("last_hidden_state", out);
                data.assertClose("clip_skip1", single.encode(ids, 1));
            }
            CheckpointException e = assertThrows(CheckpointException.class, ckpt::unetWeights);
            assertTrue(e.getMessage().contains("no UNet"), e.getMessage());
        }
    }

    @Test
    void inferredTextConfigsOfRealLayouts() {
        // Header-only checkpoints with the real SD 1.5 (CLIP ViT-L/14) and SD 2.x (OpenCLIP ViT-H/14) shapes.
        Map<String, int[]> sd1 = new LinkedHashMap<>();
        String t = "cond_stage_model.transformer.text_model.";
        sd1.put(t + "embeddings.token_embedding.weight", new int[] {49408, 768});
        sd1.put(t + "embeddings.position_embedding.weight", new int[] {77, 768});
        for (int i = 0; i < 12; i++) sd1.put(t + "encoder.layers." + i + ".mlp.fc1.weight", new int[] {3072, 768});
        ShapeOnlyWeights base1 = new ShapeOnlyWeights(sd1);
        ClipTextConfig c1 = ClipTextConfig.parse(
                ClipKeys.inferConfig(new RenamedWeights(base1, ClipKeys.mapOpenAi(base1.names())), false), "sd1");
        assertEquals(new ClipTextConfig(49408, 768, 3072, 512, 12, 12, 77,
                dev.zoetrope.models.nn.Activation.QUICK_GELU, 1e-5f, 49407, 49406, 49407), c1);

        Map<String, int[]> sd2 = new LinkedHashMap<>();
        String m = "cond_stage_model.model.";
        sd2.put(m + "token_embedding.weight", new int[] {49408, 1024});
        sd2.put(m + "positional_embedding", new int[] {77, 1024});
        for (int i = 0; i < 24; i++) {
            sd2.put(m + "transformer.resblocks." + i + ".mlp.c_fc.weight", new int[] {4096, 1024});
            sd2.put(m + "transformer.resblocks." + i + ".attn.in_proj_weight", new int[] {3072, 1024});
        }
        ShapeOnlyWeights base2 = new ShapeOnlyWeights(sd2);
        RenamedWeights renamed2 = new RenamedWeights(base2, ClipKeys.mapOpenClip(base2.names(), base2));
        ClipTextConfig c2 = ClipTextConfig.parse(ClipKeys.inferConfig(renamed2, true), "sd2");
        assertEquals(new ClipTextConfig(49408, 1024, 4096, 512, 23, 16, 77,
                dev.zoetrope.models.nn.Activation.GELU, 1e-5f, 0, 49406, 49407), c2);
        assertArrayEquals(new int[] {1024, 1024}, renamed2.info("text_model.encoder.layers.0.self_attn.v_proj.weight").shape());
        assertEquals(m + "transformer.resblocks.22.attn.in_proj_weight",
                renamed2.storedName("text_model.encoder.layers.22.self_attn.k_proj.weight"));
        assertEquals(null, renamed2.storedName("text_model.encoder.layers.23.self_attn.k_proj.weight"));
    }

    @Test
    void rejectsFilesWithoutLdmComponents() throws IOException {
        Path file = tmp.resolve("other.safetensors");
        try (Scope s = Scope.open()) {
            SafeTensors.write(file, Map.of("conditioner.embedders.0.foo", Tensor.scalar(1f)), Map.of());
        }
        CheckpointException e = assertThrows(CheckpointException.class, () -> LdmCheckpoint.open(file));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("SDXL"), e.getMessage());
        assertTrue(Files.exists(file));
    }

    private static int layers(LdmCheckpoint ckpt) {
        return UnetKeys.count(ckpt.textEncoderWeights(), "text_model.encoder.layers.");
    }

    private static void assertSameUnetConfig(UNet2DConditionConfig want, UNet2DConditionConfig got) {
        assertEquals(want.inChannels(), got.inChannels());
        assertEquals(want.outChannels(), got.outChannels());
        assertArrayEquals(want.blockOutChannels(), got.blockOutChannels());
        assertArrayEquals(want.layersPerBlock(), got.layersPerBlock());
        assertEquals(want.downBlockTypes(), got.downBlockTypes());
        assertEquals(want.upBlockTypes(), got.upBlockTypes());
        assertEquals(want.midBlockType(), got.midBlockType());
        assertArrayEquals(want.crossAttentionDim(), got.crossAttentionDim());
        assertArrayEquals(want.headsPerBlock(), got.headsPerBlock());
        assertArrayEquals(want.transformerLayersPerBlock(), got.transformerLayersPerBlock());
        assertEquals(want.useLinearProjection(), got.useLinearProjection());
        assertEquals(want.timeEmbeddingDim(), got.timeEmbeddingDim());
    }

    private static void assertSameVaeConfig(AutoencoderKLConfig want, AutoencoderKLConfig got) {
        assertArrayEquals(want.blockOutChannels(), got.blockOutChannels());
        assertEquals(want.layersPerBlock(), got.layersPerBlock());
        assertEquals(want.latentChannels(), got.latentChannels());
        assertEquals(want.inChannels(), got.inChannels());
        assertEquals(want.outChannels(), got.outChannels());
        assertEquals(want.scalingFactor(), got.scalingFactor());
        assertEquals(want.useQuantConv(), got.useQuantConv());
        assertEquals(want.midBlockAddAttention(), got.midBlockAddAttention());
    }
}
