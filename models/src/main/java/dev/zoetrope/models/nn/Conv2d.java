package dev.zoetrope.models.nn;

import dev.zoetrope.core.Ops;
import dev.zoetrope.core.Tensor;

/** nn.Conv2d with square kernel, stride and symmetric zero padding: {@code weight [out, in, k, k]}, bias [out]. */
public record Conv2d(Tensor weight, Tensor bias, int stride, int padding) {
    public static Conv2d load(Params p, int in, int out, int kernel, int stride, int padding, boolean withBias) {
        return new Conv2d(p.get("weight", out, in, kernel, kernel), withBias ? p.get("bias", out) : null, stride, padding);
    }

    /** The common 3×3, stride 1, padding 1 convolution with bias. */
    public static Conv2d load3x3(Params p, int in, int out) {
        return load(p, in, out, 3, 1, 1, true);
    }

    public int in() {
        return weight.dim(1);
    }

    public int out() {
        return weight.dim(0);
    }

    /** x[N, in, H, W] → [N, out, H', W'] */
    public Tensor forward(Tensor x) {
        return Ops.conv2d(x, weight, bias, stride, padding);
    }
}
