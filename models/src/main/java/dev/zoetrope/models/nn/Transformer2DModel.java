package dev.zoetrope.models.nn;

import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;

import java.util.ArrayList;
import java.util.List;

import static dev.zoetrope.core.Ops.add;

/**
 * diffusers {@code Transformer2DModel} for continuous (feature-map) input, as every UNet cross-attention layer
 * uses it: GroupNorm (eps 1e-6) → proj_in (1×1 conv, or Linear when use_linear_projection) → H·W tokens →
 * transformer_blocks → proj_out → + input. Weights: norm, proj_in, transformer_blocks.N, proj_out.
 */
public final class Transformer2DModel {
    private final GroupNorm norm;
    private final boolean linearProjection;
    private final Linear projInLinear;   // use_linear_projection: [inner, C]
    private final Conv2d projInConv;     // otherwise 1×1 conv C → inner
    private final List<BasicTransformerBlock> blocks;
    private final Linear projOutLinear;
    private final Conv2d projOutConv;

    private Transformer2DModel(GroupNorm norm, boolean linearProjection, Linear projInLinear, Conv2d projInConv,
                               List<BasicTransformerBlock> blocks, Linear projOutLinear, Conv2d projOutConv) {
        this.norm = norm;
        this.linearProjection = linearProjection;
        this.projInLinear = projInLinear;
        this.projInConv = projInConv;
        this.blocks = List.copyOf(blocks);
        this.projOutLinear = projOutLinear;
        this.projOutConv = projOutConv;
    }

    /**
     * @param channels  in_channels (= out_channels) of the feature map
     * @param heads     num_attention_heads; head size = channels / heads as the UNet blocks construct it
     * @param numLayers transformer_layers_per_block
     */
    public static Transformer2DModel load(Params p, int channels, int heads, int headDim, int numLayers, int groups,
                                          boolean useLinearProjection, BasicTransformerBlock.Options blockOptions) {
        int inner = heads * headDim;
        GroupNorm norm = GroupNorm.load(p.child("norm"), groups, channels, 1e-6f);
        Linear inLinear = null, outLinear = null;
        Conv2d inConv = null, outConv = null;
        if (useLinearProjection) {
            inLinear = Linear.load(p.child("proj_in"), channels, inner, true);
            outLinear = Linear.load(p.child("proj_out"), inner, channels, true);
        } else {
            inConv = Conv2d.load(p.child("proj_in"), channels, inner, 1, 1, 0, true);
            outConv = Conv2d.load(p.child("proj_out"), inner, channels, 1, 1, 0, true);
        }
        List<BasicTransformerBlock> blocks = new ArrayList<>();
        for (int i = 0; i < numLayers; i++) {
            blocks.add(BasicTransformerBlock.load(p.child("transformer_blocks", i), inner, heads, headDim, blockOptions));
        }
        return new Transformer2DModel(norm, useLinearProjection, inLinear, inConv, blocks, outLinear, outConv);
    }

    /** x[B, C, H, W], context[B, L, crossDim] → [B, C, H, W] */
    public Tensor forward(Tensor x, Tensor context) {
        try (Scope s = Scope.open()) {
            int b = x.dim(0), height = x.dim(2), width = x.dim(3);
            Tensor h = norm.forward(x);
            if (linearProjection) {
                h = projInLinear.forward(tokens(h));                                // [B, H·W, inner]
            } else {
                h = tokens(projInConv.forward(h));                                  // [B, H·W, inner]
            }
            for (BasicTransformerBlock block : blocks) h = block.forward(h, context);
            int inner = h.dim(2);
            if (linearProjection) {
                h = projOutLinear.forward(h);                                       // [B, H·W, C]
                h = h.reshape(b, height, width, h.dim(2)).permute(0, 3, 1, 2);
            } else {
                h = projOutConv.forward(h.reshape(b, height, width, inner).permute(0, 3, 1, 2));
            }
            return s.keep(add(h, x));
        }
    }

    /** [B, C, H, W] → [B, H·W, C] */
    private static Tensor tokens(Tensor x) {
        int b = x.dim(0), c = x.dim(1);
        return x.permute(0, 2, 3, 1).reshape(b, -1, c);
    }
}
