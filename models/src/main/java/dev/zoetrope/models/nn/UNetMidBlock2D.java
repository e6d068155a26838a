package dev.zoetrope.models.nn;

import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * diffusers {@code UNetMidBlock2D}: resnets.0, then per layer (attentions.i → resnets.i+1). The VAE uses it
 * with one spatial self-attention (heads = channels / attention_head_dim); UNet2DConditionModel's
 * "UNetMidBlock2D" mid-block type is the degenerate form with no layers (a single resnet).
 */
public final class UNetMidBlock2D {
    private final List<ResnetBlock2D> resnets;
    private final List<Attention> attentions;   // entries null when add_attention is false

    private UNetMidBlock2D(List<ResnetBlock2D> resnets, List<Attention> attentions) {
        this.resnets = resnets;
        this.attentions = attentions;
    }

    /**
     * @param tembChannels 0 without a time embedding (VAE)
     * @param attentionHeadDim head size of the spatial attention (heads = channels / attentionHeadDim)
     */
    public static UNetMidBlock2D load(Params p, int channels, int tembChannels, int numLayers, boolean addAttention,
                                      int attentionHeadDim, ResnetBlock2D.Options resnet) {
        List<ResnetBlock2D> resnets = new ArrayList<>();
        List<Attention> attentions = new ArrayList<>();
        resnets.add(ResnetBlock2D.load(p.child("resnets", 0), channels, channels, tembChannels, resnet));
        for (int i = 0; i < numLayers; i++) {
            attentions.add(addAttention
                    ? Attention.loadSpatial(p.child("attentions", i), channels, channels / attentionHeadDim,
                            resnet.groups(), resnet.eps(), resnet.outputScaleFactor())
                    : null);
            resnets.add(ResnetBlock2D.load(p.child("resnets", i + 1), channels, channels, tembChannels, resnet));
        }
        return new UNetMidBlock2D(List.copyOf(resnets), Collections.unmodifiableList(attentions));
    }

    /** x[N, C, H, W], temb[N, T] or null → [N, C, H, W] */
    public Tensor forward(Tensor x, Tensor temb) {
        try (Scope s = Scope.open()) {
            Tensor h = resnets.get(0).forward(x, temb);
            for (int i = 0; i < attentions.size(); i++) {
                if (attentions.get(i) != null) h = attentions.get(i).forward(h, null, null);
                h = resnets.get(i + 1).forward(h, temb);
            }
            return s.keep(h);
        }
    }
}
