package dev.zoetrope.models.nn;

import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;

/** diffusers {@code TimestepEmbedding}: linear_1 → act → linear_2 (→ optional post_act). */
public final class TimestepEmbedding {
    private final Linear linear1;   // [embedDim, in]
    private final Activation act;
    private final Linear linear2;   // [outDim, embedDim]
    private final Activation postAct;

    private TimestepEmbedding(Linear linear1, Activation act, Linear linear2, Activation postAct) {
        this.linear1 = linear1;
        this.act = act;
        this.linear2 = linear2;
        this.postAct = postAct;
    }

    /** @param postAct null for none */
    public static TimestepEmbedding load(Params p, int in, int embedDim, int outDim, Activation act, Activation postAct) {
        return new TimestepEmbedding(Linear.load(p.child("linear_1"), in, embedDim, true), act,
                Linear.load(p.child("linear_2"), embedDim, outDim, true), postAct);
    }

    public int outDim() {
        return linear2.out();
    }

    /** x[N, in] → [N, outDim] */
    public Tensor forward(Tensor x) {
        try (Scope s = Scope.open()) {
            Tensor h = linear2.forward(act.apply(linear1.forward(x)));
            if (postAct != null) h = postAct.apply(h);
            return s.keep(h);
        }
    }
}
