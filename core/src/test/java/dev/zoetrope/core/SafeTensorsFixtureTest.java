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
        Path unet = Fixtures.folder("sd").resolve("tiny-sd/unet");
        Json.Obj config = Fixtures.json(unet.resolve("config.json"));
        int firstChannels = config.ints("block_out_channels", null)[0];
        int inChannels = config.intValue("in_channels", 4);
        try (SafeTensors st = SafeTensors.open(unet.resolve("diffusion_pytorch_model.safetensors"));
             Scope s = Scope.open()) {
            TensorInfo convIn = st.info("conv_in.weight");
            assertEquals(DType.F32, convIn.dtype());
            assertArrayEquals(new int[] {firstChannels, inChannels, 3, 3}, convIn.shape());
            assertArrayEquals(new int[] {firstChannels}, st.info("conv_in.bias").shape());
            assertArrayEquals(new int[] {config.intValue("out_channels", 4), firstChannels, 3, 3},
                    st.info("conv_out.weight").shape());
            for (String name : st.names()) {
                TensorInfo t = st.info(name);
                assertEquals(t.numel() * t.dtype().byteSize(), t.byteLength(), name);
            }
            float[] w = st.get("conv_in.weight").toFloatArray();
            assertEquals(firstChannels * inChannels * 9, w.length);
            for (float v : w) assertTrue(Float.isFinite(v));
        }
    }

    @Test
    void internVlIsBf16AndMatchesItsFp32Twin() {
        Path dir = Fixtures.folder("internvl").resolve("tiny-internvl2");
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
