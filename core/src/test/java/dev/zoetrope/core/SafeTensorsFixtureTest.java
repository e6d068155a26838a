package dev.zoetrope.core;

import dev.zoetrope.core.testing.Fixtures;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Opens the fixture checkpoints and checks tensor names, shapes and dtypes against the shapes their own
 * config.json files imply (so any fixture set of the same layout passes or fails on its own terms).
 */
class SafeTensorsFixtureTest {
    @Test
    void sdUnetHeaderAgreesWithItsConfig() {
        Path unet = Fixtures.modelDir("sd", "unet").resolve("unet");
        Json.Obj config = Fixtures.json(unet.resolve("config.json"));
        int firstChannels = config.ints("block_out_channels", null)[0];
        int inChannels = config.intValue("in_channels", 4);
        int kernel = config.intValue("conv_in_kernel", 3);
        try (SafeTensors st = SafeTensors.open(unet.resolve("diffusion_pytorch_model.safetensors"));
             Scope s = Scope.open()) {
            TensorInfo convIn = st.info("conv_in.weight");
            assertTrue(convIn.dtype().isFloatingPoint(), convIn.dtypeName());
            assertArrayEquals(new int[] {firstChannels, inChannels, kernel, kernel}, convIn.shape());
            assertArrayEquals(new int[] {firstChannels}, st.info("conv_in.bias").shape());
            int outKernel = config.intValue("conv_out_kernel", 3);
            assertArrayEquals(new int[] {config.intValue("out_channels", 4), firstChannels, outKernel, outKernel},
                    st.info("conv_out.weight").shape());
            for (String name : st.names()) {
                TensorInfo t = st.info(name);
                assertEquals(t.numel() * t.dtype().byteSize(), t.byteLength(), name);
            }
            float[] w = st.get("conv_in.weight").toFloatArray();
            assertEquals(firstChannels * inChannels * kernel * kernel, w.length);
            for (float v : w) assertTrue(Float.isFinite(v));
        }
    }

    @Test
    void internVlIsBf16AndMatchesItsFp32Twin() {
        Path dir = Fixtures.modelDirByArchitecture("internvl", "InternVLChatModel");
        Json.Obj config = Fixtures.json(dir.resolve("config.json"));
        int visionHidden = config.obj("vision_config").intValue("hidden_size", -1);
        Json.Obj llm = config.obj("llm_config");
        try (SafeTensors bf16 = SafeTensors.open(dir.resolve("model.safetensors"));
             SafeTensors fp32 = SafeTensors.open(dir.resolve("model-fp32.safetensors"));
             Scope s = Scope.open()) {
            assertEquals(bf16.names(), fp32.names());
            TensorInfo qkv = bf16.info("vision_model.encoder.layers.0.attn.qkv.weight");
            assertArrayEquals(new int[] {3 * visionHidden, visionHidden}, qkv.shape());
            assertArrayEquals(new int[] {llm.intValue("vocab_size", -1), llm.intValue("hidden_size", -1)},
                    bf16.info("language_model.lm_head.weight").shape());
            for (String name : bf16.names()) {
                assertEquals(DType.BF16, bf16.info(name).dtype(), name);
                assertEquals(DType.F32, fp32.info(name).dtype(), name);
                assertArrayEquals(fp32.get(name).toFloatArray(), bf16.get(name).toFloatArray(), 0f, name);
            }
        }
    }
}
