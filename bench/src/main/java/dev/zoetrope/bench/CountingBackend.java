package dev.zoetrope.bench;

import dev.zoetrope.core.Backend;
import dev.zoetrope.core.Tensor;

import java.util.List;

/**
 * A backend that delegates every op and counts the multiply-add FLOPs (2 per multiply-accumulate) of the ones that
 * dominate a diffusion model: convolutions, linears, matmuls and attention (QKᵀ and PV). Elementwise ops, norms and
 * softmax are not counted (they are a few FLOPs per element, bandwidth-bound).
 */
final class CountingBackend implements Backend {
    private final Backend inner;
    double convFlops;
    double linearFlops;
    double attentionFlops;

    CountingBackend(Backend inner) {
        this.inner = inner;
    }

    double total() {
        return convFlops + linearFlops + attentionFlops;
    }

    @Override
    public String name() {
        return inner.name() + " (counting FLOPs)";
    }

    @Override
    public Tensor binary(Binary op, Tensor a, Tensor b) {
        return inner.binary(op, a, b);
    }

    @Override
    public Tensor unary(Unary op, Tensor a) {
        return inner.unary(op, a);
    }

    @Override
    public Tensor axpby(float alpha, Tensor a, float beta, Tensor b) {
        return inner.axpby(alpha, a, beta, b);
    }

    @Override
    public Tensor affine(Tensor a, float scale, float shift) {
        return inner.affine(a, scale, shift);
    }

    @Override
    public Tensor clamp(Tensor a, float min, float max) {
        return inner.clamp(a, min, max);
    }

    /** x[..., in] · weight[out, in]ᵀ: 2·rows·in·out. */
    @Override
    public Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        linearFlops += 2.0 * (x.numel() / x.dim(x.rank() - 1)) * weight.dim(0) * weight.dim(1);
        return inner.linear(x, weight, bias);
    }

    /** a[..., m, k] · b[..., k, n]: 2·batch·m·n·k (batch from the output). */
    @Override
    public Tensor matmul(Tensor a, Tensor b) {
        Tensor out = inner.matmul(a, b);
        linearFlops += 2.0 * out.numel() * a.dim(a.rank() - 1);
        return out;
    }

    /** 2·N·O·(C/groups)·kh·kw·H_out·W_out. */
    @Override
    public Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int strideH, int strideW, int padH, int padW,
                         int dilationH, int dilationW, int groups) {
        Tensor out = inner.conv2d(x, weight, bias, strideH, strideW, padH, padW, dilationH, dilationW, groups);
        convFlops += 2.0 * out.numel() * weight.dim(1) * weight.dim(2) * weight.dim(3);
        return out;
    }

    @Override
    public Tensor convTemporal(Tensor x, Tensor weight, Tensor bias, int padT) {
        Tensor out = inner.convTemporal(x, weight, bias, padT);
        convFlops += 2.0 * out.numel() * weight.dim(1) * weight.dim(2);
        return out;
    }

    @Override
    public Tensor interpolate(Tensor x, int outH, int outW, Interpolation mode, boolean alignCorners) {
        return inner.interpolate(x, outH, outW, mode, alignCorners);
    }

    @Override
    public Tensor avgPool2d(Tensor x, int kernel, int stride) {
        return inner.avgPool2d(x, kernel, stride);
    }

    @Override
    public Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps) {
        return inner.groupNorm(x, groups, weight, bias, eps);
    }

    @Override
    public Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, float eps) {
        return inner.layerNorm(x, weight, bias, eps);
    }

    @Override
    public Tensor rmsNorm(Tensor x, Tensor weight, float eps) {
        return inner.rmsNorm(x, weight, eps);
    }

    @Override
    public Tensor softmax(Tensor x) {
        return inner.softmax(x);
    }

    /** q[B, H, Lq, D], k[B, Hk, Lk, D], v[B, Hk, Lk, Dv]: 2·B·H·Lq·Lk·(D + Dv). */
    @Override
    public Tensor attention(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal, float scale) {
        double rows = (double) q.dim(0) * q.dim(1) * q.dim(2);
        attentionFlops += 2.0 * rows * k.dim(2) * (q.dim(3) + v.dim(3));
        return inner.attention(q, k, v, mask, causal, scale);
    }

    @Override
    public Tensor rope(Tensor x, long[] positions, double theta) {
        return inner.rope(x, positions, theta);
    }

    @Override
    public Tensor concat(int dim, List<Tensor> tensors) {
        return inner.concat(dim, tensors);
    }

    @Override
    public Tensor embedding(Tensor weight, Tensor ids) {
        return inner.embedding(weight, ids);
    }

    @Override
    public Tensor argmax(Tensor x) {
        return inner.argmax(x);
    }

    @Override
    public Tensor[] topk(Tensor x, int k) {
        return inner.topk(x, k);
    }

    @Override
    public Tensor sumLast(Tensor x) {
        return inner.sumLast(x);
    }

    @Override
    public Tensor meanLast(Tensor x) {
        return inner.meanLast(x);
    }

    @Override
    public Tensor pad(Tensor x, float value, int... pads) {
        return inner.pad(x, value, pads);
    }
}
