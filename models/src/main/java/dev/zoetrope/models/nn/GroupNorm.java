package dev.zoetrope.models.nn;

import dev.zoetrope.core.Ops;
import dev.zoetrope.core.Tensor;

/** nn.GroupNorm with affine weight/bias [C]. */
public record GroupNorm(int groups, float eps, Tensor weight, Tensor bias) {
    public static GroupNorm load(Params p, int groups, int channels, float eps) {
        if (groups <= 0 || channels % groups != 0) {
            throw p.error("weight", "belongs to a GroupNorm of " + channels + " channels that cannot be split into "
                    + groups + " groups (check norm_num_groups in the config)");
        }
        return new GroupNorm(groups, eps, p.get("weight", channels), p.get("bias", channels));
    }

    /** x[N, C, *] */
    public Tensor forward(Tensor x) {
        return Ops.groupNorm(x, groups, weight, bias, eps);
    }
}
