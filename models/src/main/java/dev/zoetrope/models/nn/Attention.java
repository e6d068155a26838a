package dev.zoetrope.models.nn;

import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;

import static dev.zoetrope.core.Ops.add;
import static dev.zoetrope.core.Ops.attention;
import static dev.zoetrope.core.Ops.div;

/**
 * diffusers {@code Attention} with the default processor (scaled dot-product attention, scale 1/√head_dim):
 * {@code to_q}, {@code to_k}, {@code to_v}, {@code to_out.0}, optional {@code group_norm} over the channels,
 * optional residual connection and {@code rescale_output_factor}. Works on token sequences [B, L, C] and, as
 * the VAE's spatial self-attention, on feature maps [B, C, H, W] (flattened to H·W tokens and back).
 * {@code upcast_attention}/{@code upcast_softmax} change nothing here: activations are always F32.
 */
public final class Attention {
    private final Linear toQ;    // [inner, queryDim]
    private final Linear toK;    // [inner, contextDim]
    private final Linear toV;    // [inner, contextDim]
    private final Linear toOut;  // [outDim, inner]
    private final int heads;
    private final GroupNorm groupNorm;
    private final boolean residualConnection;
    private final float rescaleOutputFactor;

    private Attention(Linear toQ, Linear toK, Linear toV, Linear toOut, int heads, GroupNorm groupNorm,
                      boolean residualConnection, float rescaleOutputFactor) {
        if (toQ.out() % heads != 0) {
            throw new IllegalArgumentException("attention width " + toQ.out() + " is not divisible by " + heads + " heads");
        }
        this.toQ = toQ;
        this.toK = toK;
        this.toV = toV;
        this.toOut = toOut;
        this.heads = heads;
        this.groupNorm = groupNorm;
        this.residualConnection = residualConnection;
        this.rescaleOutputFactor = rescaleOutputFactor;
    }

    /**
     * The attention of transformer blocks: q/k/v with bias {@code qkvBias}, to_out.0 with bias {@code outBias},
     * inner width heads·dimHead, output width queryDim.
     *
     * @param contextDim width of encoder_hidden_states for cross-attention, or queryDim for self-attention
     */
    public static Attention load(Params p, int queryDim, int contextDim, int heads, int dimHead,
                                 boolean qkvBias, boolean outBias) {
        int inner = heads * dimHead;
        return new Attention(
                Linear.load(p.child("to_q"), queryDim, inner, qkvBias),
                Linear.load(p.child("to_k"), contextDim, inner, qkvBias),
                Linear.load(p.child("to_v"), contextDim, inner, qkvBias),
                Linear.load(p.child("to_out").child(0), inner, queryDim, outBias),
                heads, null, false, 1f);
    }

    /**
     * The VAE mid-block self-attention (diffusers' {@code _from_deprecated_attn_block}): GroupNorm over the
     * channels, q/k/v/out with bias, residual connection, output divided by rescaleOutputFactor. Older
     * checkpoints name the projections query/key/value/proj_attn; both spellings are accepted.
     */
    public static Attention loadSpatial(Params p, int channels, int heads, int groups, float eps, float rescaleOutputFactor) {
        boolean legacy = !p.has("to_q.weight") && p.has("query.weight");
        String q = legacy ? "query" : "to_q", k = legacy ? "key" : "to_k", v = legacy ? "value" : "to_v";
        Params out = legacy ? p.child("proj_attn") : p.child("to_out").child(0);
        GroupNorm norm = GroupNorm.load(p.child("group_norm"), groups, channels, eps);
        return new Attention(
                Linear.load(p.child(q), channels, channels, true),
                Linear.load(p.child(k), channels, channels, true),
                Linear.load(p.child(v), channels, channels, true),
                Linear.load(out, channels, channels, true),
                heads, norm, true, rescaleOutputFactor);
    }

    public int heads() {
        return heads;
    }

    /**
     * hidden [B, L, C] (or [B, C, H, W]), context [B, Lk, Ck] or null for self-attention → same shape as hidden.
     * {@code mask} is an additive bias broadcastable to [B, heads, L, Lk], or null.
     */
    public Tensor forward(Tensor hidden, Tensor context, Tensor mask) {
        try (Scope s = Scope.open()) {
            Tensor residual = hidden;
            boolean spatial = hidden.rank() == 4;
            int b = hidden.dim(0);
            int c = spatial ? hidden.dim(1) : hidden.dim(2);
            int height = spatial ? hidden.dim(2) : 0, width = spatial ? hidden.dim(3) : 0;
            Tensor x = hidden;
            if (groupNorm != null) x = groupNorm.forward(spatial ? x : x.transpose(1, 2));  // norm over channels
            if (spatial || groupNorm != null) {
                // [B, C, H, W] (or [B, C, L]) → [B, L, C]
                x = x.reshape(b, c, -1).transpose(1, 2);
            }
            Tensor q = toQ.forward(x);
            Tensor kv = context != null ? context : x;
            Tensor k = toK.forward(kv);
            Tensor v = toV.forward(kv);
            Tensor o = attention(splitHeads(q), splitHeads(k), splitHeads(v), mask, false,
                    (float) (1.0 / Math.sqrt(q.dim(-1) / heads)));                 // [B, heads, L, d]
            o = o.transpose(1, 2).reshape(b, o.dim(2), -1);                       // [B, L, heads·d]
            o = toOut.forward(o);                                                  // [B, L, C]
            if (spatial) o = o.transpose(1, 2).reshape(b, c, height, width);
            if (residualConnection) o = add(o, residual);
            if (rescaleOutputFactor != 1f) o = div(o, Tensor.scalar(rescaleOutputFactor));
            return s.keep(o.contiguous());
        }
    }

    /** [B, L, heads·d] → [B, heads, L, d] (a view). */
    private Tensor splitHeads(Tensor x) {
        int b = x.dim(0), l = x.dim(1), d = x.dim(2) / heads;
        return x.reshape(b, l, heads, d).transpose(1, 2);
    }
}
