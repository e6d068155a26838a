package dev.zoetrope.models.nn;

import dev.zoetrope.core.Backend.Interpolation;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;

import static dev.zoetrope.core.Ops.interpolate;

/**
 * diffusers {@code Upsample2D} with use_conv: nearest-neighbour ×2 (or to an explicit output size, which the
 * UNet passes when the latent size is not a multiple of 2^num_upsamplers) followed by a 3×3 conv ({@code conv}).
 */
public final class Upsample2D {
    private final Conv2d conv;

    private Upsample2D(Conv2d conv) {
        this.conv = conv;
    }

    public static Upsample2D load(Params p, int channels, int outChannels) {
        return new Upsample2D(Conv2d.load3x3(p.child("conv"), channels, outChannels));
    }

    /** x[N, C, H, W] → [N, out, 2H, 2W], or [N, out, outH, outW] when outputSize = {outH, outW} is given */
    public Tensor forward(Tensor x, int[] outputSize) {
        try (Scope s = Scope.open()) {
            int oh = outputSize == null ? 2 * x.dim(2) : outputSize[0];
            int ow = outputSize == null ? 2 * x.dim(3) : outputSize[1];
            Tensor up = interpolate(x, oh, ow, Interpolation.NEAREST, false);
            return s.keep(conv.forward(up));
        }
    }
}
