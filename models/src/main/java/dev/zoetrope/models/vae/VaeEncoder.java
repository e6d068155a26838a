package dev.zoetrope.models.vae;

import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.models.nn.Activation;
import dev.zoetrope.models.nn.Conv2d;
import dev.zoetrope.models.nn.Downsample2D;
import dev.zoetrope.models.nn.GroupNorm;
import dev.zoetrope.models.nn.Params;
import dev.zoetrope.models.nn.ResnetBlock2D;
import dev.zoetrope.models.nn.UNetMidBlock2D;

import java.util.ArrayList;
import java.util.List;

/**
 * diffusers VAE {@code Encoder}: conv_in → down_blocks (DownEncoderBlock2D: resnets without time embedding,
 * then a stride-2 conv with one-sided padding) → mid_block (resnet, self-attention, resnet) → GroupNorm →
 * SiLU → conv_out to 2·latent_channels (mean and log-variance).
 */
final class VaeEncoder {
    private record DownEncoderBlock(List<ResnetBlock2D> resnets, Downsample2D downsampler) {
    }

    private final Conv2d convIn;
    private final List<DownEncoderBlock> downBlocks;
    private final UNetMidBlock2D midBlock;
    private final GroupNorm convNormOut;
    private final Conv2d convOut;

    VaeEncoder(Params p, AutoencoderKLConfig c) {
        int[] ch = c.blockOutChannels();
        ResnetBlock2D.Options resnet = ResnetBlock2D.Options.of(c.normNumGroups(), 1e-6f, c.act());
        convIn = Conv2d.load3x3(p.child("conv_in"), c.inChannels(), ch[0]);
        List<DownEncoderBlock> blocks = new ArrayList<>();
        int out = ch[0];
        for (int i = 0; i < ch.length; i++) {
            int in = out;
            out = ch[i];
            Params b = p.child("down_blocks", i);
            List<ResnetBlock2D> resnets = new ArrayList<>();
            for (int j = 0; j < c.layersPerBlock(); j++) {
                resnets.add(ResnetBlock2D.load(b.child("resnets", j), j == 0 ? in : out, out, 0, resnet));
            }
            Downsample2D down = i < ch.length - 1 ? Downsample2D.load(b.child("downsamplers", 0), out, out, 0) : null;
            blocks.add(new DownEncoderBlock(List.copyOf(resnets), down));
        }
        downBlocks = List.copyOf(blocks);
        int last = ch[ch.length - 1];
        midBlock = UNetMidBlock2D.load(p.child("mid_block"), last, 0, 1, c.midBlockAddAttention(), last, resnet);
        convNormOut = GroupNorm.load(p.child("conv_norm_out"), c.normNumGroups(), last, 1e-6f);
        convOut = Conv2d.load3x3(p.child("conv_out"), last, 2 * c.latentChannels());
    }

    /** x[N, 3, H, W] → moments [N, 2·latent, H/f, W/f] */
    Tensor forward(Tensor x) {
        try (Scope s = Scope.open()) {
            Tensor h = convIn.forward(x);
            for (DownEncoderBlock block : downBlocks) {
                for (ResnetBlock2D r : block.resnets()) h = r.forward(h, null);
                if (block.downsampler() != null) h = block.downsampler().forward(h);
            }
            h = midBlock.forward(h, null);
            h = convOut.forward(Activation.SILU.apply(convNormOut.forward(h)));
            return s.keep(h);
        }
    }
}
