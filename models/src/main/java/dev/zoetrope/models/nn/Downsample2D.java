package dev.zoetrope.models.nn;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;

import static dev.zoetrope.core.Ops.concat;

/**
 * diffusers {@code Downsample2D} with use_conv: a 3×3 stride-2 convolution ({@code conv}). padding 1 is the
 * UNet's; padding 0 (the VAE encoder's) pads one zero row and column at the bottom/right first, as
 * {@code F.pad(x, (0, 1, 0, 1))} does.
 */
public final class Downsample2D {
    private final Conv2d conv;
    private final boolean padBottomRight;

    private Downsample2D(Conv2d conv, boolean padBottomRight) {
        this.conv = conv;
        this.padBottomRight = padBottomRight;
    }

    public static Downsample2D load(Params p, int channels, int outChannels, int padding) {
        if (padding != 0 && padding != 1) {
            throw new IllegalArgumentException(p + ": downsample_padding " + padding + " is not supported (0 or 1)");
        }
        return new Downsample2D(Conv2d.load(p.child("conv"), channels, outChannels, 3, 2, padding, true), padding == 0);
    }

    /** x[N, C, H, W] → [N, out, ⌈H/2⌉, ⌈W/2⌉] (padding 1) or [N, out, ⌊H/2⌋, ⌊W/2⌋] (padding 0) */
    public Tensor forward(Tensor x) {
        if (!padBottomRight) return conv.forward(x);
        try (Scope s = Scope.open()) {
            int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
            // Core's conv2d pads symmetrically; the one-sided pad is composed with zero strips (a copy).
            Tensor padded = concat(3, x, Tensor.zeros(DType.F32, n, c, h, 1));
            padded = concat(2, padded, Tensor.zeros(DType.F32, n, c, 1, w + 1));
            return s.keep(conv.forward(padded));
        }
    }
}
