package dev.zoetrope.models.unet;

import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.Weights;
import dev.zoetrope.models.nn.Activation;
import dev.zoetrope.models.nn.BasicTransformerBlock;
import dev.zoetrope.models.nn.Configs;
import dev.zoetrope.models.nn.Conv2d;
import dev.zoetrope.models.nn.Downsample2D;
import dev.zoetrope.models.nn.GroupNorm;
import dev.zoetrope.models.nn.Params;
import dev.zoetrope.models.nn.ResnetBlock2D;
import dev.zoetrope.models.nn.TimestepEmbedding;
import dev.zoetrope.models.nn.Timesteps;
import dev.zoetrope.models.nn.Transformer2DModel;
import dev.zoetrope.models.nn.UNetMidBlock2D;
import dev.zoetrope.models.nn.Upsample2D;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.zoetrope.core.Ops.affine;

/**
 * diffusers {@code UNet2DConditionModel} as Stable Diffusion 1.x/2.x uses it: the noise (or v) prediction for
 * latents [N, in_channels, h, w] at a timestep, conditioned on text embeddings [N, L, cross_attention_dim].
 * <pre>
 *   emb  = time_embedding(time_proj(t))                         [N, 4·C0]
 *   h    = conv_in(sample)                                      [N, C0, h, w]
 *   down_blocks.i  (resnets → attentions, downsamplers)          skips collected
 *   mid_block      (resnet → attention → resnet)
 *   up_blocks.i    (cat skip → resnets → attentions, upsamplers)
 *   out  = conv_out(act(conv_norm_out(h)))                      [N, out_channels, h, w]
 * </pre>
 * Weights are bound by their diffusers names ({@code down_blocks.1.attentions.0.proj_in.weight}); they stay
 * in the mapped checkpoint in their stored dtype.
 */
public final class UNet2DConditionModel implements AutoCloseable {
    private final UNet2DConditionConfig config;
    private final Weights weights;
    private final boolean ownsWeights;
    private final Conv2d convIn;
    private final Timesteps timeProj;
    private final TimestepEmbedding timeEmbedding;
    private final List<DownBlock2D> downBlocks;
    private final UNetMidBlock2DCrossAttn midCrossAttn;   // mid_block_type UNetMidBlock2DCrossAttn
    private final UNetMidBlock2D midPlain;                // mid_block_type UNetMidBlock2D
    private final List<UpBlock2D> upBlocks;
    private final GroupNorm convNormOut;
    private final Conv2d convOut;

    private UNet2DConditionModel(UNet2DConditionConfig c, Weights weights, boolean ownsWeights) {
        this.config = c;
        this.weights = weights;
        this.ownsWeights = ownsWeights;
        Params p = Params.of(weights);
        int n = c.numBlocks();
        int[] ch = c.blockOutChannels();
        int temb = c.timeEmbeddingDim();
        ResnetBlock2D.Options resnet = new ResnetBlock2D.Options(c.normNumGroups(), c.normNumGroups(), c.normEps(),
                c.act(), c.resnetScaleShift(), c.resnetSkipTimeAct(), 1f);

        convIn = Conv2d.load(p.child("conv_in"), c.inChannels(), ch[0], c.convInKernel(), 1, (c.convInKernel() - 1) / 2, true);
        timeProj = new Timesteps(ch[0], c.flipSinToCos(), c.freqShift());
        timeEmbedding = TimestepEmbedding.load(p.child("time_embedding"), c.timestepInputDim(), temb, temb, c.act(),
                c.timestepPostAct());

        List<DownBlock2D> down = new ArrayList<>();
        int out = ch[0];
        for (int i = 0; i < n; i++) {
            int in = out;
            out = ch[i];
            Params b = p.child("down_blocks", i);
            List<ResnetBlock2D> resnets = new ArrayList<>();
            List<Transformer2DModel> attentions = new ArrayList<>();
            for (int j = 0; j < c.layersPerBlock()[i]; j++) {
                resnets.add(ResnetBlock2D.load(b.child("resnets", j), j == 0 ? in : out, out, temb, resnet));
                if (c.downBlockTypes().get(i).equals("CrossAttnDownBlock2D")) {
                    attentions.add(transformer(b.child("attentions", j), out, c.headsPerBlock()[i],
                            c.transformerLayersPerBlock()[i], c.crossAttentionDim()[i], c.onlyCrossAttention()[i]));
                }
            }
            Downsample2D downsampler = i < n - 1
                    ? Downsample2D.load(b.child("downsamplers", 0), out, out, c.downsamplePadding()) : null;
            down.add(new DownBlock2D(resnets, attentions, downsampler));
        }
        downBlocks = List.copyOf(down);

        int last = ch[n - 1];
        ResnetBlock2D.Options midResnet = resnet.withOutputScaleFactor(c.midBlockScaleFactor());
        Params m = p.child("mid_block");
        if ("UNetMidBlock2DCrossAttn".equals(c.midBlockType())) {
            List<ResnetBlock2D> resnets = new ArrayList<>();
            List<Transformer2DModel> attentions = new ArrayList<>();
            resnets.add(ResnetBlock2D.load(m.child("resnets", 0), last, last, temb, midResnet));
            attentions.add(transformer(m.child("attentions", 0), last, c.headsPerBlock()[n - 1],
                    c.transformerLayersPerBlock()[n - 1], c.crossAttentionDim()[n - 1], false));
            resnets.add(ResnetBlock2D.load(m.child("resnets", 1), last, last, temb, midResnet));
            midCrossAttn = new UNetMidBlock2DCrossAttn(resnets, attentions);
            midPlain = null;
        } else if ("UNetMidBlock2D".equals(c.midBlockType())) {
            midCrossAttn = null;
            midPlain = UNetMidBlock2D.load(m, last, temb, 0, false, 1, midResnet);
        } else {
            midCrossAttn = null;
            midPlain = null;
        }

        List<UpBlock2D> up = new ArrayList<>();
        int[] rev = reversed(ch);
        out = rev[0];
        for (int i = 0; i < n; i++) {
            int prev = out;
            out = rev[i];
            int in = rev[Math.min(i + 1, n - 1)];
            int down_i = n - 1 - i;   // the down block whose settings this up block mirrors
            int layers = c.layersPerBlock()[down_i] + 1;
            Params b = p.child("up_blocks", i);
            List<ResnetBlock2D> resnets = new ArrayList<>();
            List<Transformer2DModel> attentions = new ArrayList<>();
            for (int j = 0; j < layers; j++) {
                int skip = j == layers - 1 ? in : out;
                int resIn = j == 0 ? prev : out;
                resnets.add(ResnetBlock2D.load(b.child("resnets", j), resIn + skip, out, temb, resnet));
                if (c.upBlockTypes().get(i).equals("CrossAttnUpBlock2D")) {
                    attentions.add(transformer(b.child("attentions", j), out, c.headsPerBlock()[down_i],
                            c.transformerLayersUp()[i], c.crossAttentionDim()[down_i], c.onlyCrossAttention()[down_i]));
                }
            }
            Upsample2D upsampler = i < n - 1 ? Upsample2D.load(b.child("upsamplers", 0), out, out) : null;
            up.add(new UpBlock2D(resnets, attentions, upsampler));
        }
        upBlocks = List.copyOf(up);

        convNormOut = GroupNorm.load(p.child("conv_norm_out"), c.normNumGroups(), ch[0], c.normEps());
        convOut = Conv2d.load(p.child("conv_out"), ch[0], c.outChannels(), c.convOutKernel(), 1, (c.convOutKernel() - 1) / 2, true);
    }

    private Transformer2DModel transformer(Params p, int channels, int heads, int layers, int crossDim, boolean onlyCross) {
        return Transformer2DModel.load(p, channels, heads, channels / heads, layers, config.normNumGroups(),
                config.useLinearProjection(), BasicTransformerBlock.Options.sd(crossDim, onlyCross));
    }

    /** Loads a diffusers {@code unet/} folder (config.json + diffusion_pytorch_model.safetensors). */
    public static UNet2DConditionModel load(Path dir) {
        UNet2DConditionConfig config = UNet2DConditionConfig.load(dir.resolve("config.json"));
        Weights weights = Configs.openWeights(dir, "diffusion_pytorch_model");
        try {
            return new UNet2DConditionModel(config, weights, true);
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
    }

    /** A model over weights the caller owns (closing the model leaves them open). */
    public static UNet2DConditionModel of(UNet2DConditionConfig config, Weights weights) {
        return new UNet2DConditionModel(config, weights, false);
    }

    public UNet2DConditionConfig config() {
        return config;
    }

    /** One timestep for the whole batch (an integer step or a fractional one, as Euler-type schedulers use). */
    public Tensor forward(Tensor sample, float timestep, Tensor encoderHiddenStates) {
        return forward(sample, new float[] {timestep}, encoderHiddenStates);
    }

    /**
     * sample[N, in_channels, h, w], timesteps of length 1 or N, encoderHiddenStates[N, L, cross_attention_dim]
     * → [N, out_channels, h, w] in the current scope.
     */
    public Tensor forward(Tensor sample, float[] timesteps, Tensor encoderHiddenStates) {
        int n = checkInputs(sample, timesteps, encoderHiddenStates);
        float[] t = timesteps.length == n ? timesteps : filled(n, timesteps[0]);
        try (Scope s = Scope.open()) {
            // Latent sizes that are not a multiple of 2^upsamplers upsample to each skip's exact size.
            int factor = 1 << (upBlocks.size() - 1);
            boolean forwardUpsampleSize = sample.dim(2) % factor != 0 || sample.dim(3) % factor != 0;
            if (config.centerInputSample()) sample = affine(sample, 2f, -1f);

            Tensor emb = timeEmbedding.forward(timeProj.embed(t));                // [N, time_embed_dim]
            if (config.timeEmbeddingAct() != null) emb = config.timeEmbeddingAct().apply(emb);

            Tensor h = convIn.forward(sample);                                   // [N, C0, h, w]
            List<Tensor> skips = new ArrayList<>();
            skips.add(h);
            for (DownBlock2D block : downBlocks) {
                DownBlock2D.Output o = block.forward(h, emb, encoderHiddenStates);
                h = o.hidden();
                skips.addAll(o.skips());
            }
            if (midCrossAttn != null) h = midCrossAttn.forward(h, emb, encoderHiddenStates);
            else if (midPlain != null) h = midPlain.forward(h, emb);

            for (int i = 0; i < upBlocks.size(); i++) {
                UpBlock2D block = upBlocks.get(i);
                List<Tensor> mine = new ArrayList<>(skips.subList(skips.size() - block.numSkips(), skips.size()));
                skips.subList(skips.size() - block.numSkips(), skips.size()).clear();
                int[] upsampleTo = null;
                if (i < upBlocks.size() - 1 && forwardUpsampleSize) {
                    Tensor next = skips.get(skips.size() - 1);
                    upsampleTo = new int[] {next.dim(2), next.dim(3)};
                }
                h = block.forward(h, mine, emb, encoderHiddenStates, upsampleTo);
                for (Tensor used : mine) used.close();                           // skips are dead once consumed
            }
            h = convOut.forward(config.act().apply(convNormOut.forward(h)));
            return s.keep(h);
        }
    }

    private int checkInputs(Tensor sample, float[] timesteps, Tensor context) {
        if (sample.rank() != 4 || sample.dim(1) != config.inChannels()) {
            throw new IllegalArgumentException("UNet sample must be [N, " + config.inChannels() + ", h, w], got "
                    + Arrays.toString(sample.shape()));
        }
        int n = sample.dim(0);
        if (timesteps.length != 1 && timesteps.length != n) {
            throw new IllegalArgumentException(timesteps.length + " timesteps for a batch of " + n);
        }
        boolean needsContext = midCrossAttn != null || config.downBlockTypes().contains("CrossAttnDownBlock2D")
                || config.upBlockTypes().contains("CrossAttnUpBlock2D");
        if (needsContext) {
            int[] dims = config.crossAttentionDim();
            if (context == null || context.rank() != 3 || context.dim(0) != n) {
                throw new IllegalArgumentException("encoder_hidden_states must be [" + n + ", L, " + dims[0] + "], got "
                        + (context == null ? "null" : Arrays.toString(context.shape())));
            }
            for (int d : dims) {
                if (d != context.dim(2)) {
                    throw new IllegalArgumentException("encoder_hidden_states width " + context.dim(2)
                            + " does not match cross_attention_dim " + Arrays.toString(dims));
                }
            }
        }
        return n;
    }

    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        Arrays.fill(a, v);
        return a;
    }

    private static int[] reversed(int[] a) {
        int[] r = new int[a.length];
        for (int i = 0; i < a.length; i++) r[i] = a[a.length - 1 - i];
        return r;
    }

    @Override
    public void close() {
        if (ownsWeights) weights.close();
    }
}
