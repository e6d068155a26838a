package dev.zoetrope.models.unet;

import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.models.nn.ResnetBlock2D;
import dev.zoetrope.models.nn.Transformer2DModel;

import java.util.List;

/** diffusers {@code UNetMidBlock2DCrossAttn}: resnets.0, then per layer attentions.i → resnets.i+1. */
public final class UNetMidBlock2DCrossAttn {
    private final List<ResnetBlock2D> resnets;
    private final List<Transformer2DModel> attentions;

    public UNetMidBlock2DCrossAttn(List<ResnetBlock2D> resnets, List<Transformer2DModel> attentions) {
        if (resnets.size() != attentions.size() + 1) {
            throw new IllegalArgumentException(resnets.size() + " resnets for " + attentions.size() + " attentions");
        }
        this.resnets = List.copyOf(resnets);
        this.attentions = List.copyOf(attentions);
    }

    /** x[N, C, H, W], temb[N, T], context[N, L, D] → [N, C, H, W] */
    public Tensor forward(Tensor x, Tensor temb, Tensor context) {
        try (Scope s = Scope.open()) {
            Tensor h = resnets.get(0).forward(x, temb);
            for (int i = 0; i < attentions.size(); i++) {
                h = attentions.get(i).forward(h, context);
                h = resnets.get(i + 1).forward(h, temb);
            }
            return s.keep(h);
        }
    }
}
