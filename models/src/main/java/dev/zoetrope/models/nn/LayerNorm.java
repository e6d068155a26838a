package dev.zoetrope.models.nn;

import dev.zoetrope.core.Ops;
import dev.zoetrope.core.Tensor;

/** nn.LayerNorm over the last dimension, affine weight/bias [D] (either may be absent). */
public record LayerNorm(float eps, Tensor weight, Tensor bias) {
    public static LayerNorm load(Params p, int dim, float eps) {
        return new LayerNorm(eps, p.get("weight", dim), p.get("bias", dim));
    }

    /** x[..., D] */
    public Tensor forward(Tensor x) {
        return Ops.layerNorm(x, weight, bias, eps);
    }
}
