package dev.zoetrope.core.cpu;

import dev.zoetrope.core.Backend;
import dev.zoetrope.core.Tensor;

import java.util.List;

/**
 * CPU backend: Vector API kernels with a scalar path beside each ({@code -Dzoetrope.vector=false} forces
 * the scalar paths), parallel over output tiles on {@link dev.zoetrope.core.Parallel}'s pool.
 */
public final class CpuBackend implements Backend {
    @Override
    public String name() {
        return "cpu" + (Kernels.VECTOR ? " (vector " + Kernels.FLOATS + "×f32)" : " (scalar)");
    }

    @Override
    public Tensor binary(Binary op, Tensor a, Tensor b) {
        return Elementwise.binary(op, a, b);
    }

    @Override
    public Tensor unary(Unary op, Tensor a) {
        return Elementwise.unary(op, a);
    }

    @Override
    public Tensor axpby(float alpha, Tensor a, float beta, Tensor b) {
        return Elementwise.axpby(alpha, a, beta, b);
    }

    @Override
    public Tensor affine(Tensor a, float scale, float shift) {
        return Elementwise.affine(a, scale, shift);
    }

    @Override
    public Tensor clamp(Tensor a, float min, float max) {
        return Elementwise.clamp(a, min, max);
    }

    @Override
    public Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        return MatMul.linear(x, weight, bias);
    }

    @Override
    public Tensor linearGroup(Tensor x, List<Tensor> weights, List<Tensor> biases) {
        return LinearGroup.linearGroup(x, weights, biases);
    }

    @Override
    public Tensor matmul(Tensor a, Tensor b) {
        return MatMul.matmul(a, b);
    }

    @Override
    public Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int strideH, int strideW, int padH, int padW,
                         int dilationH, int dilationW, int groups) {
        return Conv.conv2d(x, weight, bias, strideH, strideW, padH, padW, dilationH, dilationW, groups);
    }

    @Override
    public Tensor convTemporal(Tensor x, Tensor weight, Tensor bias, int padT) {
        return Conv.convTemporal(x, weight, bias, padT);
    }

    @Override
    public Tensor interpolate(Tensor x, int outH, int outW, Interpolation mode, boolean alignCorners) {
        return Resample.interpolate(x, outH, outW, mode, alignCorners);
    }

    @Override
    public Tensor avgPool2d(Tensor x, int kernel, int stride) {
        return Resample.avgPool2d(x, kernel, stride);
    }

    @Override
    public Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps) {
        return Norms.groupNorm(x, groups, weight, bias, eps);
    }

    @Override
    public Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, float eps) {
        return Norms.layerNorm(x, weight, bias, eps);
    }

    @Override
    public Tensor rmsNorm(Tensor x, Tensor weight, float eps) {
        return Norms.rmsNorm(x, weight, eps);
    }

    @Override
    public Tensor softmax(Tensor x) {
        return Norms.softmax(x);
    }

    @Override
    public Tensor attention(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal, float scale) {
        return Attention.attention(q, k, v, mask, causal, scale);
    }

    @Override
    public Tensor rope(Tensor x, long[] positions, double theta) {
        return Positions.rope(x, positions, theta);
    }

    @Override
    public Tensor concat(int dim, List<Tensor> tensors) {
        return Structure.concat(dim, tensors);
    }

    @Override
    public Tensor embedding(Tensor weight, Tensor ids) {
        return Structure.embedding(weight, ids);
    }

    @Override
    public Tensor argmax(Tensor x) {
        return Structure.argmax(x);
    }

    @Override
    public Tensor[] topk(Tensor x, int k) {
        return Structure.topk(x, k);
    }

    @Override
    public Tensor sumLast(Tensor x) {
        return Structure.sumLast(x);
    }

    @Override
    public Tensor meanLast(Tensor x) {
        return Structure.meanLast(x);
    }

    @Override
    public Tensor pad(Tensor x, float value, int... pads) {
        return Structure.pad(x, value, pads);
    }
}
