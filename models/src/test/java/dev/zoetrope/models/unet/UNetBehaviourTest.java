package dev.zoetrope.models.unet;

import dev.zoetrope.core.CheckpointException;
import dev.zoetrope.core.Json;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.Weights;
import dev.zoetrope.core.testing.Compare;
import dev.zoetrope.core.testing.Fixtures;
import dev.zoetrope.models.nn.Configs;
import dev.zoetrope.models.testing.CaseData;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static dev.zoetrope.core.Ops.concat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Batching, per-sample timesteps and the errors a bad config, checkpoint or input produces. */
class UNetBehaviourTest {
    private static final Path UNET = Fixtures.modelDir("sd", "unet").resolve("unet");

    /** A k×k crop of the sample at (y, x), k = up to 8 and small enough for two crops. */
    static Tensor crop(Tensor sample, int y, int x) {
        int k = Math.min(8, Math.min(sample.dim(2), sample.dim(3)) / 2);
        return sample.slice(2, y * k, (y + 1) * k).slice(3, x * k, (x + 1) * k);
    }

    @Test
    void batchWithPerSampleTimestepsEqualsSingleRuns() {
        try (UNet2DConditionModel unet = UNet2DConditionModel.load(UNET);
             CaseData data = new CaseData(Fixtures.cases("sd", "unet").get(0));
             Scope s = Scope.open()) {
            Tensor sample = data.largestInput("sample");
            Tensor a = crop(sample, 0, 0);
            Tensor b = crop(sample, 1, 1);
            Tensor context = data.get("encoder_hidden_states");
            Tensor batch = unet.forward(concat(0, a, b), new float[] {999f, 37.5f}, concat(0, context, context));
            Compare.assertClose("batch item 0", batch.narrow(0, 0, 1), unet.forward(a, 999f, context), 1e-6, 0);
            Compare.assertClose("batch item 1", batch.narrow(0, 1, 1), unet.forward(b, 37.5f, context), 1e-6, 0);
        }
    }

    @Test
    void badInputsAreReportedClearly() {
        try (UNet2DConditionModel unet = UNet2DConditionModel.load(UNET); Scope s = Scope.open()) {
            int in = unet.config().inChannels(), cross = unet.config().crossAttentionDim()[0];
            Tensor context = Tensor.zeros(dev.zoetrope.core.DType.F32, 1, 77, cross);
            var e1 = assertThrows(IllegalArgumentException.class,
                    () -> unet.forward(Tensor.zeros(dev.zoetrope.core.DType.F32, 1, in + 5, 8, 8), 1f, context));
            assertTrue(e1.getMessage().contains("[N, " + in + ", h, w]"), e1.getMessage());
            var e2 = assertThrows(IllegalArgumentException.class,
                    () -> unet.forward(Tensor.zeros(dev.zoetrope.core.DType.F32, 1, in, 8, 8), 1f,
                            Tensor.zeros(dev.zoetrope.core.DType.F32, 1, 77, cross + 1)));
            assertTrue(e2.getMessage().contains("cross_attention_dim"), e2.getMessage());
        }
    }

    @Test
    void configAndCheckpointMismatchesNameTheFileAndTensor() {
        Json.Obj base = Configs.read(UNET.resolve("config.json"));
        int[] channels = base.ints("block_out_channels", null);
        int in = base.intValue("in_channels", 4), kernel = base.intValue("conv_in_kernel", 3);
        Map<String, Object> wider = new LinkedHashMap<>(base.map());
        wider.put("block_out_channels", java.util.Arrays.stream(channels).mapToObj(c -> 2L * c).toList());
        try (Weights w = Weights.open(UNET.resolve("diffusion_pytorch_model.safetensors"))) {
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> UNet2DConditionModel.of(UNet2DConditionConfig.parse(new Json.Obj(wider), "test"), w));
            assertTrue(e.getMessage().contains("diffusion_pytorch_model.safetensors") && e.getMessage().contains("'conv_in.weight'")
                    && e.getMessage().contains(java.util.Arrays.toString(new int[] {2 * channels[0], in, kernel, kernel})),
                    e.getMessage());
        }
        Map<String, Object> sdxl = new LinkedHashMap<>(base.map());
        sdxl.put("addition_embed_type", "text_time");
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> UNet2DConditionConfig.parse(new Json.Obj(sdxl), "unet/config.json"));
        assertTrue(e.getMessage().startsWith("unet/config.json") && e.getMessage().contains("addition_embed_type"), e.getMessage());
        int badHeads = 3;
        while (channels[0] % badHeads == 0) badHeads++;          // a head count that does not divide block 0's width
        Map<String, Object> heads = new LinkedHashMap<>(base.map());
        heads.remove("num_attention_heads");
        heads.put("attention_head_dim", (long) badHeads);
        e = assertThrows(CheckpointException.class, () -> UNet2DConditionConfig.parse(new Json.Obj(heads), "cfg"));
        assertTrue(e.getMessage().contains("not divisible by " + badHeads), e.getMessage());
    }

    @Test
    void sd2StyleConfigResolvesPerBlockLists() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("attention_head_dim", java.util.List.of(5L, 10L, 20L, 20L));
        c.put("use_linear_projection", true);
        c.put("cross_attention_dim", 1024L);
        c.put("transformer_layers_per_block", java.util.List.of(1L, 2L, 3L, 4L));
        UNet2DConditionConfig cfg = UNet2DConditionConfig.parse(new Json.Obj(c), "sd2");
        assertEquals(4, cfg.numBlocks());
        assertEquals(20, cfg.headsPerBlock()[3]);
        assertEquals(1280, cfg.timeEmbeddingDim());
        assertEquals(4, cfg.transformerLayersUp()[0]);
        assertEquals("CrossAttnDownBlock2D", cfg.downBlockTypes().get(0));
        assertEquals("UNetMidBlock2DCrossAttn", cfg.midBlockType());
    }

    @Test
    void linearProjectionEqualsTheOneByOneConvolution() {
        // use_linear_projection (SD 2.x) stores proj_in/proj_out as [out, in] instead of [out, in, 1, 1]: the same
        // numbers viewed as a Linear must give the same UNet.
        Json.Obj base = Configs.read(UNET.resolve("config.json"));
        Map<String, Object> linear = new LinkedHashMap<>(base.map());
        linear.put("use_linear_projection", true);
        try (Weights w = Weights.open(UNET.resolve("diffusion_pytorch_model.safetensors"));
             UNet2DConditionModel conv = UNet2DConditionModel.of(UNet2DConditionConfig.parse(base, "conv"), w);
             UNet2DConditionModel lin = UNet2DConditionModel.of(UNet2DConditionConfig.parse(new Json.Obj(linear), "linear"),
                     new ProjectionsAsLinear(w));
             CaseData data = new CaseData(Fixtures.cases("sd", "unet").get(0));
             Scope s = Scope.open()) {
            Tensor sample = crop(data.largestInput("sample"), 0, 0);
            Tensor context = data.get("encoder_hidden_states");
            Compare.assertClose("linear vs conv projections", lin.forward(sample, 250f, context),
                    conv.forward(sample, 250f, context), 1e-5, 1e-5);
        }
    }

    /** The checkpoint with every transformer proj_in/proj_out weight viewed as a 2-D Linear weight. */
    private record ProjectionsAsLinear(Weights base) implements Weights {
        private static boolean projection(String name) {
            return name.endsWith(".proj_in.weight") || name.endsWith(".proj_out.weight");
        }

        @Override
        public java.util.Set<String> names() {
            return base.names();
        }

        @Override
        public dev.zoetrope.core.TensorInfo info(String name) {
            var i = base.info(name);
            if (i == null || !projection(name)) return i;
            return new dev.zoetrope.core.TensorInfo(name, i.dtypeName(), i.dtype(), new int[] {i.shape()[0], i.shape()[1]},
                    i.begin(), i.end());
        }

        @Override
        public Tensor get(String name) {
            Tensor t = base.get(name);
            return projection(name) ? t.reshape(t.dim(0), t.dim(1)) : t;
        }

        @Override
        public Path source() {
            return base.source();
        }

        @Override
        public void close() {
        }
    }
}
