package dev.zoetrope.models.nn;

import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;

import static dev.zoetrope.core.Ops.add;

/**
 * diffusers {@code BasicTransformerBlock} with norm_type "layer_norm" (the Stable Diffusion block):
 * <pre>
 *   x = x + attn1(norm1(x))              self-attention (cross-attention to the context if only_cross_attention)
 *   x = x + attn2(norm2(x), context)     cross-attention (self-attention if double_self_attention)
 *   x = x + ff(norm3(x))                 GEGLU feed-forward
 * </pre>
 * Weights: norm1, attn1, norm2, attn2, norm3, ff.
 */
public final class BasicTransformerBlock {
    /**
     * @param crossAttentionDim  width of the context, or 0 when the block has no attn2
     * @param onlyCrossAttention attn1 attends to the context instead of x
     * @param doubleSelfAttention attn2 is a second self-attention
     * @param activationFn       diffusers' feed-forward activation_fn ("geglu" for SD)
     * @param attentionBias      q/k/v projections have biases
     * @param normEps            LayerNorm eps
     */
    public record Options(int crossAttentionDim, boolean onlyCrossAttention, boolean doubleSelfAttention,
                          String activationFn, boolean attentionBias, float normEps) {
        public static Options sd(int crossAttentionDim, boolean onlyCrossAttention) {
            return new Options(crossAttentionDim, onlyCrossAttention, false, "geglu", false, 1e-5f);
        }
    }

    private final LayerNorm norm1;
    private final Attention attn1;
    private final LayerNorm norm2;   // null without attn2
    private final Attention attn2;   // null without cross-attention
    private final LayerNorm norm3;
    private final FeedForward ff;
    private final boolean onlyCrossAttention;

    private BasicTransformerBlock(LayerNorm norm1, Attention attn1, LayerNorm norm2, Attention attn2, LayerNorm norm3,
                                  FeedForward ff, boolean onlyCrossAttention) {
        this.norm1 = norm1;
        this.attn1 = attn1;
        this.norm2 = norm2;
        this.attn2 = attn2;
        this.norm3 = norm3;
        this.ff = ff;
        this.onlyCrossAttention = onlyCrossAttention;
    }

    public static BasicTransformerBlock load(Params p, int dim, int heads, int headDim, Options o) {
        if (o.onlyCrossAttention() && o.crossAttentionDim() <= 0) {
            throw new IllegalArgumentException(p + ": only_cross_attention needs a cross_attention_dim");
        }
        LayerNorm norm1 = LayerNorm.load(p.child("norm1"), dim, o.normEps());
        int attn1Context = o.onlyCrossAttention() ? o.crossAttentionDim() : dim;
        Attention attn1 = Attention.load(p.child("attn1"), dim, attn1Context, heads, headDim, o.attentionBias(), true);
        LayerNorm norm2 = null;
        Attention attn2 = null;
        if (o.crossAttentionDim() > 0 || o.doubleSelfAttention()) {
            norm2 = LayerNorm.load(p.child("norm2"), dim, o.normEps());
            int context = o.doubleSelfAttention() ? dim : o.crossAttentionDim();
            attn2 = Attention.load(p.child("attn2"), dim, context, heads, headDim, o.attentionBias(), true);
        }
        LayerNorm norm3 = LayerNorm.load(p.child("norm3"), dim, o.normEps());
        FeedForward ff = FeedForward.load(p.child("ff"), dim, 4 * dim, dim, FeedForward.kind(o.activationFn()), true);
        return new BasicTransformerBlock(norm1, attn1, norm2, attn2, norm3, ff, o.onlyCrossAttention());
    }

    /** x[B, L, dim], context[B, Lc, crossDim] or null → [B, L, dim] */
    public Tensor forward(Tensor x, Tensor context) {
        try (Scope s = Scope.open()) {
            x = add(attn1.forward(norm1.forward(x), onlyCrossAttention ? context : null, null), x);
            if (attn2 != null) x = add(attn2.forward(norm2.forward(x), context, null), x);
            x = add(ff.forward(norm3.forward(x)), x);
            return s.keep(x);
        }
    }
}
