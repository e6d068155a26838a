package dev.zoetrope.models.nn;

import dev.zoetrope.core.Ops;
import dev.zoetrope.core.Tensor;

/** nn.Linear: {@code weight [out, in]}, optional {@code bias [out]}. */
public record Linear(Tensor weight, Tensor bias) {
    /** Binds {@code <p>.weight} (and {@code <p>.bias} when {@code withBias}) with the given sizes. */
    public static Linear load(Params p, int in, int out, boolean withBias) {
        return new Linear(p.get("weight", out, in), withBias ? p.get("bias", out) : null);
    }

    public int in() {
        return weight.dim(1);
    }

    public int out() {
        return weight.dim(0);
    }

    /** x[..., in] → [..., out] */
    public Tensor forward(Tensor x) {
        return Ops.linear(x, weight, bias);
    }
}
