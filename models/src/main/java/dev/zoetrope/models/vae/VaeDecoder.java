package dev.zoetrope.models.vae;

import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.models.nn.Activation;
import dev.zoetrope.models.nn.Conv2d;
import dev.zoetrope.models.nn.GroupNorm;
import dev.zoetrope.models.nn.Params;
import dev.zoetrope.models.nn.ResnetBlock2D;
import dev.zoetrope.models.nn.UNetMidBlock2D;
import dev.zoetrope.models.nn.Upsample2D;

import java.util.ArrayList;
import java.util.List;

/**
 * diffusers VAE {@code Decoder}: conv_in → mid_block → up_blocks (UpDecoderBlock2D: layers_per_block + 1
 * resnets, then nearest ×2 and a conv) → GroupNorm → SiLU → conv_out.
 */
final class VaeDecoder {
    private record UpDecoderBlock(List<ResnetBlock2D> resnets, Upsample2D upsampler) {
    }

    private final Conv2d convIn;
    private final UNetMidBlock2D midBlock;
    private final List<UpDecoderBlock> upBlocks;
    private final GroupNorm convNormOut;
    private final Conv2d convOut;

    VaeDecoder(Params p, AutoencoderKLConfig c) {
        int[] ch = c.blockOutChannels();
        int n = ch.length;
        ResnetBlock2D.Options resnet = ResnetBlock2D.Options.of(c.normNumGroups(), 1e-6f, c.act());
        int last = ch[n - 1];
        convIn = Conv2d.load3x3(p.child("conv_in"), c.latentChannels(), last);
        midBlock = UNetMidBlock2D.load(p.child("mid_block"), last, 0, 1, c.midBlockAddAttention(), last, resnet);
        List<UpDecoderBlock> blocks = new ArrayList<>();
        int out = last;
        for (int i = 0; i < n; i++) {
            int prev = out;
            out = ch[n - 1 - i];
            Params b = p.child("up_blocks", i);
            List<ResnetBlock2D> resnets = new ArrayList<>();
            for (int j = 0; j < c.layersPerBlock() + 1; j++) {
                resnets.add(ResnetBlock2D.load(b.child("resnets", j), j == 0 ? prev : out, out, 0, resnet));
            }
            Upsample2D up = i < n - 1 ? Upsample2D.load(b.child("upsamplers", 0), out, out) : null;
            blocks.add(new UpDecoderBlock(List.copyOf(resnets), up));
        }
        upBlocks = List.copyOf(blocks);
        convNormOut = GroupNorm.load(p.child("conv_norm_out"), c.normNumGroups(), ch[0], 1e-6f);
        convOut = Conv2d.load3x3(p.child("conv_out"), ch[0], c.outChannels());
    }

    /** z[N, latent, h, w] (after post_quant_conv) → [N, 3, h·f, w·f] */
    Tensor forward(Tensor z) {
        try (Scope s = Scope.open()) {
            Tensor h = midBlock.forward(convIn.forward(z), null);
            for (UpDecoderBlock block : upBlocks) {
                for (ResnetBlock2D r : block.resnets()) h = r.forward(h, null);
                if (block.upsampler() != null) h = block.upsampler().forward(h, null);
            }
            h = convOut.forward(Activation.SILU.apply(convNormOut.forward(h)));
            return s.keep(h);
        }
    }
}
