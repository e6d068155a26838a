package dev.zoetrope.core;

import dev.zoetrope.core.Backend.Binary;
import dev.zoetrope.core.Backend.Interpolation;
import dev.zoetrope.core.Backend.Unary;
import dev.zoetrope.core.cpu.CpuBackend;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Static entry points for model code ({@code import static dev.zoetrope.core.Ops.*}), delegating to the
 * active {@link Backend}. Shapes in comments follow PyTorch.
 */
public final class Ops {
    private static volatile Backend backend = new CpuBackend();

    private Ops() {
    }

    public static Backend backend() {
        return backend;
    }

    public static void setBackend(Backend b) {
        backend = b;
    }

    // ---- elementwise
    public static Tensor add(Tensor a, Tensor b) { return backend.binary(Binary.ADD, a, b); }
    public static Tensor sub(Tensor a, Tensor b) { return backend.binary(Binary.SUB, a, b); }
    public static Tensor mul(Tensor a, Tensor b) { return backend.binary(Binary.MUL, a, b); }
    public static Tensor div(Tensor a, Tensor b) { return backend.binary(Binary.DIV, a, b); }
    public static Tensor maximum(Tensor a, Tensor b) { return backend.binary(Binary.MAX, a, b); }
    public static Tensor minimum(Tensor a, Tensor b) { return backend.binary(Binary.MIN, a, b); }
    public static Tensor scale(Tensor a, float s) { return backend.affine(a, s, 0f); }
    public static Tensor addScalar(Tensor a, float s) { return backend.affine(a, 1f, s); }
    public static Tensor affine(Tensor a, float scale, float shift) { return backend.affine(a, scale, shift); }
    public static Tensor axpby(float alpha, Tensor a, float beta, Tensor b) { return backend.axpby(alpha, a, beta, b); }
    public static Tensor clamp(Tensor a, float min, float max) { return backend.clamp(a, min, max); }
    public static Tensor neg(Tensor a) { return backend.unary(Unary.NEG, a); }
    public static Tensor exp(Tensor a) { return backend.unary(Unary.EXP, a); }
    public static Tensor log(Tensor a) { return backend.unary(Unary.LOG, a); }
    public static Tensor sqrt(Tensor a) { return backend.unary(Unary.SQRT, a); }
    public static Tensor tanh(Tensor a) { return backend.unary(Unary.TANH, a); }
    public static Tensor sin(Tensor a) { return backend.unary(Unary.SIN, a); }
    public static Tensor cos(Tensor a) { return backend.unary(Unary.COS, a); }
    public static Tensor sigmoid(Tensor a) { return backend.unary(Unary.SIGMOID, a); }
    public static Tensor silu(Tensor a) { return backend.unary(Unary.SILU, a); }
    /** GELU with the exact erf form (torch's default). */
    public static Tensor gelu(Tensor a) { return backend.unary(Unary.GELU_ERF, a); }
    public static Tensor geluTanh(Tensor a) { return backend.unary(Unary.GELU_TANH, a); }
    /** x·sigmoid(1.702x), CLIP's quick_gelu. */
    public static Tensor quickGelu(Tensor a) { return backend.unary(Unary.QUICK_GELU, a); }
    public static Tensor relu(Tensor a) { return backend.unary(Unary.RELU, a); }
    public static Tensor unary(Unary op, Tensor a) { return backend.unary(op, a); }

    // ---- linear algebra
    public static Tensor linear(Tensor x, Tensor weight, Tensor bias) { return backend.linear(x, weight, bias); }
    public static Tensor linear(Tensor x, Tensor weight) { return backend.linear(x, weight, null); }
    public static Tensor matmul(Tensor a, Tensor b) { return backend.matmul(a, b); }
    /** Linears of one input side by side, [..., Σ out_i] (see {@link Backend#linearGroup}); biases may be null. */
    public static Tensor linearGroup(Tensor x, List<Tensor> weights, List<Tensor> biases) {
        return backend.linearGroup(x, weights, biases);
    }

    // ---- convolution and resampling
    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding) {
        return backend.conv2d(x, weight, bias, stride, stride, padding, padding, 1, 1, 1);
    }

    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int strideH, int strideW, int padH, int padW,
                                int dilationH, int dilationW, int groups) {
        return backend.conv2d(x, weight, bias, strideH, strideW, padH, padW, dilationH, dilationW, groups);
    }

    public static Tensor convTemporal(Tensor x, Tensor weight, Tensor bias, int padT) {
        return backend.convTemporal(x, weight, bias, padT);
    }

    public static Tensor interpolate(Tensor x, int outH, int outW, Interpolation mode, boolean alignCorners) {
        return backend.interpolate(x, outH, outW, mode, alignCorners);
    }

    /** Nearest-neighbour upsampling by an integer factor (UNet/VAE Upsample2D). */
    public static Tensor upsampleNearest(Tensor x, int factor) {
        return backend.interpolate(x, x.dim(-2) * factor, x.dim(-1) * factor, Interpolation.NEAREST, false);
    }

    public static Tensor avgPool2d(Tensor x, int kernel, int stride) { return backend.avgPool2d(x, kernel, stride); }

    // ---- normalisation
    public static Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps) {
        return backend.groupNorm(x, groups, weight, bias, eps);
    }

    public static Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, float eps) {
        return backend.layerNorm(x, weight, bias, eps);
    }

    public static Tensor rmsNorm(Tensor x, Tensor weight, float eps) { return backend.rmsNorm(x, weight, eps); }
    public static Tensor softmax(Tensor x) { return backend.softmax(x); }

    // ---- attention
    public static Tensor attention(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal, float scale) {
        return backend.attention(q, k, v, mask, causal, scale);
    }

    /** Attention with the default scale 1/√D. */
    public static Tensor attention(Tensor q, Tensor k, Tensor v) {
        return backend.attention(q, k, v, null, false, (float) (1.0 / Math.sqrt(q.dim(-1))));
    }

    public static Tensor rope(Tensor x, long[] positions, double theta) { return backend.rope(x, positions, theta); }

    // ---- structure
    public static Tensor concat(int dim, Tensor... tensors) { return backend.concat(dim, Arrays.asList(tensors)); }
    public static Tensor concat(int dim, List<Tensor> tensors) { return backend.concat(dim, tensors); }

    /** Views of consecutive pieces of the given sizes along {@code dim}. */
    public static List<Tensor> split(Tensor x, int dim, int... sizes) {
        int a = x.axis(dim);
        int total = 0;
        for (int s : sizes) total += s;
        if (total != x.dim(a)) {
            throw new IllegalArgumentException("split sizes " + Arrays.toString(sizes) + " do not add up to " + x.dim(a));
        }
        List<Tensor> out = new ArrayList<>(sizes.length);
        int start = 0;
        for (int s : sizes) {
            out.add(x.narrow(a, start, s));
            start += s;
        }
        return out;
    }

    /** torch.chunk: {@code n} views along {@code dim} (sizes ceil(len/n), the last smaller). */
    public static List<Tensor> chunk(Tensor x, int n, int dim) {
        int a = x.axis(dim);
        int len = x.dim(a);
        int size = (len + n - 1) / n;
        List<Tensor> out = new ArrayList<>();
        for (int start = 0; start < len; start += size) out.add(x.narrow(a, start, Math.min(size, len - start)));
        return out;
    }

    public static Tensor embedding(Tensor weight, Tensor ids) { return backend.embedding(weight, ids); }
    public static Tensor argmax(Tensor x) { return backend.argmax(x); }
    public static Tensor[] topk(Tensor x, int k) { return backend.topk(x, k); }
    public static Tensor sumLast(Tensor x) { return backend.sumLast(x); }
    public static Tensor meanLast(Tensor x) { return backend.meanLast(x); }

    /** torch.nn.functional.pad (constant): (before, after) pairs from the last dimension backwards. */
    public static Tensor pad(Tensor x, float value, int... pads) { return backend.pad(x, value, pads); }
}
