package dev.zoetrope.core;

import dev.zoetrope.core.testing.Fixtures;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Opens real fixture checkpoints and checks names, shapes and dtypes against what their READMEs state. */
class SafeTensorsFixtureTest {
    @Test
    void tinySdUnetHeader() {
        Path file = Fixtures.folder("sd").resolve("tiny-sd/unet/diffusion_pytorch_model.safetensors");
        try (SafeTensors st = SafeTensors.open(file)) {
            TensorInfo convIn = st.info("conv_in.weight");
            assertEquals(DType.F32, convIn.dtype());
            assertArrayEquals(new int[] {32, 4, 3, 3}, convIn.shape());
            assertTrue(st.has("down_blocks.1.attentions.0.proj_in.weight"));
            try (Scope s = Scope.open()) {
                Tensor w = st.get("conv_in.weight");
                assertEquals(32 * 4 * 9, w.numel());
                assertTrue(Float.isFinite(w.getFloat(31, 3, 2, 2)));
            }
        }
    }

    @Test
    void tinyInternVlIsBf16AndMatchesItsFp32Twin() {
        Path dir = Fixtures.folder("internvl").resolve("tiny-internvl2");
        try (SafeTensors bf16 = SafeTensors.open(dir.resolve("model.safetensors"));
             SafeTensors fp32 = SafeTensors.open(dir.resolve("model-fp32.safetensors"));
             Scope s = Scope.open()) {
            assertEquals(65, bf16.names().size());
            TensorInfo qkv = bf16.info("vision_model.encoder.layers.0.attn.qkv.weight");
            assertEquals(DType.BF16, qkv.dtype());
            assertArrayEquals(new int[] {192, 64}, qkv.shape());
            assertArrayEquals(new int[] {1024, 64}, bf16.info("language_model.lm_head.weight").shape());
            for (String name : bf16.names()) {
                assertArrayEquals(fp32.get(name).toFloatArray(), bf16.get(name).toFloatArray(), 0f, name);
            }
        }
    }
}
