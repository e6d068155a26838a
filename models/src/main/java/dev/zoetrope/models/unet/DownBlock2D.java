package dev.zoetrope.models.unet;

import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.models.nn.Downsample2D;
import dev.zoetrope.models.nn.ResnetBlock2D;
import dev.zoetrope.models.nn.Transformer2DModel;

import java.util.ArrayList;
import java.util.List;

/**
 * diffusers {@code DownBlock2D} and {@code CrossAttnDownBlock2D} (the same block with a Transformer2DModel after
 * each resnet): resnets.i (→ attentions.i), then downsamplers.0. Every layer's output and the downsampled
 * output are handed to the up path as skip connections.
 */
public final class DownBlock2D {
    /** The block's output and the skip tensors it contributes, in order. */
    public record Output(Tensor hidden, List<Tensor> skips) {
    }

    private final List<ResnetBlock2D> resnets;
    private final List<Transformer2DModel> attentions;   // empty for DownBlock2D
    private final Downsample2D downsampler;              // null in the last block

    public DownBlock2D(List<ResnetBlock2D> resnets, List<Transformer2DModel> attentions, Downsample2D downsampler) {
        if (!attentions.isEmpty() && attentions.size() != resnets.size()) {
            throw new IllegalArgumentException(resnets.size() + " resnets but " + attentions.size() + " attentions");
        }
        this.resnets = List.copyOf(resnets);
        this.attentions = List.copyOf(attentions);
        this.downsampler = downsampler;
    }

    public int numSkips() {
        return resnets.size() + (downsampler != null ? 1 : 0);
    }

    /** x[N, Cin, H, W], temb[N, T], context[N, L, D] (unused without attentions) */
    public Output forward(Tensor x, Tensor temb, Tensor context) {
        try (Scope s = Scope.open()) {
            List<Tensor> skips = new ArrayList<>();
            Tensor h = x;
            for (int i = 0; i < resnets.size(); i++) {
                h = resnets.get(i).forward(h, temb);
                if (!attentions.isEmpty()) h = attentions.get(i).forward(h, context);
                skips.add(h);
            }
            if (downsampler != null) {
                h = downsampler.forward(h);
                skips.add(h);
            }
            return new Output(s.keep(h), s.keepAll(skips));
        }
    }
}
