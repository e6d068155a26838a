package dev.zoetrope.models.nn;

import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;

import static dev.zoetrope.core.Ops.add;
import static dev.zoetrope.core.Ops.div;
import static dev.zoetrope.core.Ops.mul;
import static dev.zoetrope.core.Ops.addScalar;

/**
 * diffusers {@code ResnetBlock2D}: GroupNorm → act → conv1 (+ projected time embedding) → GroupNorm → act →
 * conv2, plus a 1×1 {@code conv_shortcut} when the channel count changes; the sum is divided by
 * {@code output_scale_factor}. Weights: norm1, conv1, time_emb_proj, norm2, conv2, conv_shortcut.
 */
public final class ResnetBlock2D {
    /**
     * Settings shared by the resnets of a block.
     *
     * @param groups             GroupNorm groups of norm1
     * @param groupsOut          GroupNorm groups of norm2
     * @param eps                GroupNorm eps
     * @param act                non-linearity (also applied to the time embedding unless skipTimeAct)
     * @param scaleShift         time_embedding_norm "scale_shift" (time_emb_proj gives 2·out: h·(1+scale)+shift)
     * @param skipTimeAct        resnet_skip_time_act
     * @param outputScaleFactor  the output is (shortcut + h) / outputScaleFactor
     */
    public record Options(int groups, int groupsOut, float eps, Activation act, boolean scaleShift,
                          boolean skipTimeAct, float outputScaleFactor) {
        public static Options of(int groups, float eps, Activation act) {
            return new Options(groups, groups, eps, act, false, false, 1f);
        }

        public Options withOutputScaleFactor(float factor) {
            return new Options(groups, groupsOut, eps, act, scaleShift, skipTimeAct, factor);
        }

        public Options withGroupsOut(int g) {
            return new Options(groups, g, eps, act, scaleShift, skipTimeAct, outputScaleFactor);
        }
    }

    private final GroupNorm norm1;
    private final Conv2d conv1;
    private final Linear timeEmbProj;   // [temb] → [out] or [2·out]; null without a time embedding
    private final GroupNorm norm2;
    private final Conv2d conv2;
    private final Conv2d convShortcut;  // 1×1, only when in != out
    private final Options options;

    private ResnetBlock2D(GroupNorm norm1, Conv2d conv1, Linear timeEmbProj, GroupNorm norm2, Conv2d conv2,
                          Conv2d convShortcut, Options options) {
        this.norm1 = norm1;
        this.conv1 = conv1;
        this.timeEmbProj = timeEmbProj;
        this.norm2 = norm2;
        this.conv2 = conv2;
        this.convShortcut = convShortcut;
        this.options = options;
    }

    /**
     * @param tembChannels size of the time embedding, or 0 for a block without one (VAE)
     */
    public static ResnetBlock2D load(Params p, int in, int out, int tembChannels, Options o) {
        GroupNorm norm1 = GroupNorm.load(p.child("norm1"), o.groups(), in, o.eps());
        Conv2d conv1 = Conv2d.load3x3(p.child("conv1"), in, out);
        Linear proj = tembChannels > 0
                ? Linear.load(p.child("time_emb_proj"), tembChannels, o.scaleShift() ? 2 * out : out, true) : null;
        GroupNorm norm2 = GroupNorm.load(p.child("norm2"), o.groupsOut(), out, o.eps());
        Conv2d conv2 = Conv2d.load3x3(p.child("conv2"), out, out);
        Conv2d shortcut = null;
        if (in != out) {
            Params s = p.child("conv_shortcut");
            shortcut = new Conv2d(s.get("weight", out, in, 1, 1), s.optional("bias", out), 1, 0);
        }
        return new ResnetBlock2D(norm1, conv1, proj, norm2, conv2, shortcut, o);
    }

    public int inChannels() {
        return conv1.in();
    }

    public int outChannels() {
        return conv2.out();
    }

    /** x[N, in, H, W], temb[N, T] or null → [N, out, H, W] */
    public Tensor forward(Tensor x, Tensor temb) {
        try (Scope s = Scope.open()) {
            Activation act = options.act();
            Tensor h = conv1.forward(act.apply(norm1.forward(x)));
            if (timeEmbProj != null && temb != null) {
                Tensor t = timeEmbProj.forward(options.skipTimeAct() ? temb : act.apply(temb));
                t = t.reshape(t.dim(0), t.dim(1), 1, 1);                         // [N, out or 2·out, 1, 1]
                if (options.scaleShift()) {
                    int c = t.dim(1) / 2;
                    Tensor scale = t.narrow(1, 0, c), shift = t.narrow(1, c, c);
                    h = add(mul(norm2.forward(h), addScalar(scale, 1f)), shift);
                } else {
                    h = norm2.forward(add(h, t));
                }
            } else {
                h = norm2.forward(h);
            }
            h = conv2.forward(act.apply(h));
            Tensor shortcut = convShortcut != null ? convShortcut.forward(x) : x;
            Tensor out = add(shortcut, h);
            if (options.outputScaleFactor() != 1f) out = div(out, Tensor.scalar(options.outputScaleFactor()));
            return s.keep(out);
        }
    }
}
