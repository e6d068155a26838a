package dev.zoetrope.core;

import java.util.List;

/**
 * The op set every model is written against. A backend computes on tensors it can address (CPU: off-heap
 * memory); model code never touches raw memory, so a CUDA backend needs no model change. Activations are
 * F32; weights may be F32, F16 or BF16 and are widened inside the kernels. Shapes follow PyTorch.
 * Every op returns a new tensor in the current {@link Scope} unless documented as a view.
 */
public interface Backend {

    String name();

    // ---------------------------------------------------------------- elementwise (broadcasting like torch)

    enum Binary { ADD, SUB, MUL, DIV, MAX, MIN }

    /** {@code a op b} with torch broadcasting. */
    Tensor binary(Binary op, Tensor a, Tensor b);

    enum Unary { NEG, EXP, LOG, SQRT, RSQRT, TANH, SIGMOID, SILU, GELU_ERF, GELU_TANH, QUICK_GELU, RELU, SIN, COS, ABS, SQUARE }

    Tensor unary(Unary op, Tensor a);

    /** {@code alpha·a + beta·b} (b broadcast to a), the workhorse of scheduler updates. */
    Tensor axpby(float alpha, Tensor a, float beta, Tensor b);

    /** {@code a·scale + shift}. */
    Tensor affine(Tensor a, float scale, float shift);

    Tensor clamp(Tensor a, float min, float max);

    // ---------------------------------------------------------------- linear algebra

    /** {@code x[..., in] · weight[out, in]ᵀ + bias[out]} → {@code [..., out]}; bias may be null. */
    Tensor linear(Tensor x, Tensor weight, Tensor bias);

    /**
     * Several linears of one input side by side: {@code x[..., in]} and weights[i] {@code [out_i, in]} (biases
     * null, or one per weight, each null or {@code [out_i]}) → {@code [..., Σ out_i]}, weight i's outputs in
     * columns {@code [Σ_{j<i} out_j, Σ_{j≤i} out_j)}. Equal to concatenating the separate linears (up to float
     * rounding); a backend may compute the group in one pass (q/k/v or gate/up projections of a decode step).
     */
    default Tensor linearGroup(Tensor x, List<Tensor> weights, List<Tensor> biases) {
        List<Tensor> parts = new java.util.ArrayList<>(weights.size());
        for (int i = 0; i < weights.size(); i++) parts.add(linear(x, weights.get(i), biases == null ? null : biases.get(i)));
        return concat(x.rank() - 1, parts);
    }

    /** Batched {@code a[..., m, k] · b[..., k, n]} with broadcast batch dims; transposed operands are views. */
    Tensor matmul(Tensor a, Tensor b);

    // ---------------------------------------------------------------- convolution and resampling

    /** 2-D convolution, NCHW: x[N, C, H, W], weight[O, C/groups, kh, kw], bias[O] or null. */
    Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int strideH, int strideW, int padH, int padW,
                  int dilationH, int dilationW, int groups);

    /**
     * Convolution over the frame axis of a video tensor x[N, C, F, H, W] with weight[O, C, kt, 1, 1]
     * (diffusers' TemporalConvLayer Conv3d with kernel (kt,1,1)), zero padding padT frames on each side.
     */
    Tensor convTemporal(Tensor x, Tensor weight, Tensor bias, int padT);

    enum Interpolation { NEAREST, BILINEAR, BICUBIC }

    /** torch.nn.functional.interpolate on x[N, C, H, W] (antialias off, torch's coordinate rules). */
    Tensor interpolate(Tensor x, int outH, int outW, Interpolation mode, boolean alignCorners);

    /** avg_pool2d, NCHW, no padding, count_include_pad irrelevant. */
    Tensor avgPool2d(Tensor x, int kernel, int stride);

    // ---------------------------------------------------------------- normalisation and softmax

    /** GroupNorm over x[N, C, *] with per-channel affine weight/bias (either may be null). */
    Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps);

    /** LayerNorm over the last dimension; weight/bias may be null. */
    Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, float eps);

    /** RMSNorm over the last dimension (computed in fp32 as transformers does), weight may be null. */
    Tensor rmsNorm(Tensor x, Tensor weight, float eps);

    /** Softmax over the last dimension (a row that is entirely −∞ gives NaN, as torch). */
    Tensor softmax(Tensor x);

    // ---------------------------------------------------------------- attention and positions

    /**
     * Scaled dot-product attention. q[B, H, Lq, D], k[B, Hk, Lk, D], v[B, Hk, Lk, Dv] with H a multiple of Hk
     * (grouped KV heads); mask additive, broadcastable to [B, H, Lq, Lk], or null; causal aligns the query
     * block to the end of the keys (query i sees keys ≤ i + Lk − Lq). Tiled with an online softmax: memory
     * stays linear in the sequence length. Returns [B, H, Lq, Dv].
     */
    Tensor attention(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal, float scale);

    /**
     * Rotary embedding, NeoX layout (rotate_half), on x[B, H, L, D] for the given positions: L of them shared
     * by the batch, or B·L (row-major [B, L]) when each sample has its own (left-padded batches). Computed as
     * transformers does in float32: inv_freq = 1 / θ^(2i/D), angle = pos · inv_freq, cos/sin of the angle.
     */
    Tensor rope(Tensor x, long[] positions, double theta);

    // ---------------------------------------------------------------- structure

    Tensor concat(int dim, List<Tensor> tensors);

    /** Rows of weight[V, D] (F32/F16/BF16) picked by integer ids of any shape → [..., D] F32; ids are range-checked. */
    Tensor embedding(Tensor weight, Tensor ids);

    /** Index of the largest value along the last dimension (first one on ties) → I64 [...]. */
    Tensor argmax(Tensor x);

    /** The k largest values along the last dimension, descending (ties: lower index first): [values F32, indices I64]. */
    Tensor[] topk(Tensor x, int k);

    /** Sum over the last dimension → [...] F32. */
    Tensor sumLast(Tensor x);

    /** Mean over the last dimension → [...] F32 (e.g. pooling tokens, statistics for custom norms). */
    Tensor meanLast(Tensor x);

    /**
     * torch.nn.functional.pad in constant mode → F32: {@code pads} holds (before, after) pairs starting from
     * the last dimension, e.g. (0, 1, 0, 1) pads W and H on the far side as diffusers' VAE Downsample2D does
     * before its stride-2 convolution. Negative values crop.
     */
    Tensor pad(Tensor x, float value, int... pads);
}
