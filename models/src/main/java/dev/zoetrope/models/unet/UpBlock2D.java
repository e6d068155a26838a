package dev.zoetrope.models.unet;

import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.models.nn.ResnetBlock2D;
import dev.zoetrope.models.nn.Transformer2DModel;
import dev.zoetrope.models.nn.Upsample2D;

import java.util.List;

import static dev.zoetrope.core.Ops.concat;

/**
 * diffusers {@code UpBlock2D} and {@code CrossAttnUpBlock2D}: for each resnet, the last remaining skip tensor is
 * concatenated to the channels, then resnets.i (→ attentions.i); finally upsamplers.0 (to the next skip's size
 * when the latent size is not a multiple of the total downsampling).
 */
public final class UpBlock2D {
    private final List<ResnetBlock2D> resnets;
    private final List<Transformer2DModel> attentions;   // empty for UpBlock2D
    private final Upsample2D upsampler;                  // null in the last block

    public UpBlock2D(List<ResnetBlock2D> resnets, List<Transformer2DModel> attentions, Upsample2D upsampler) {
        if (!attentions.isEmpty() && attentions.size() != resnets.size()) {
            throw new IllegalArgumentException(resnets.size() + " resnets but " + attentions.size() + " attentions");
        }
        this.resnets = List.copyOf(resnets);
        this.attentions = List.copyOf(attentions);
        this.upsampler = upsampler;
    }

    public int numSkips() {
        return resnets.size();
    }

    /**
     * @param skips      this block's skip tensors in down-path order (the last is consumed first)
     * @param upsampleTo {H, W} for the upsampler, or null for ×2
     */
    public Tensor forward(Tensor x, List<Tensor> skips, Tensor temb, Tensor context, int[] upsampleTo) {
        if (skips.size() != resnets.size()) {
            throw new IllegalArgumentException("up block needs " + resnets.size() + " skip tensors, got " + skips.size());
        }
        try (Scope s = Scope.open()) {
            Tensor h = x;
            for (int i = 0; i < resnets.size(); i++) {
                Tensor skip = skips.get(skips.size() - 1 - i);
                h = resnets.get(i).forward(concat(1, h, skip), temb);           // [N, C + Cskip, H, W] → [N, Cout, H, W]
                if (!attentions.isEmpty()) h = attentions.get(i).forward(h, context);
            }
            if (upsampler != null) h = upsampler.forward(h, upsampleTo);
            return s.keep(h);
        }
    }
}
