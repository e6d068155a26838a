package dev.zoetrope.core.cpu;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Parallel;
import dev.zoetrope.core.Tensor;

import java.lang.foreign.MemorySegment;

/** Convolutions as GEMM: per image and group, out[O, P] = W[O, C·kh·kw] · col[C·kh·kw, P]. */
final class Conv {
    private Conv() {
    }

    static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int sh, int sw, int ph, int pw, int dh, int dw, int groups) {
        Kernels.requireFloat(x, "conv2d input");
        Kernels.requireFloat(weight, "conv2d weight");
        if (x.rank() != 4 || weight.rank() != 4 || groups < 1 || x.dim(1) % groups != 0 || weight.dim(0) % groups != 0
                || weight.dim(1) * groups != x.dim(1)) {
            throw Kernels.shapeError("conv2d", "x[N, C, H, W] and weight[O, C/" + groups + ", kh, kw]", x, weight);
        }
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        int o = weight.dim(0), kh = weight.dim(2), kw = weight.dim(3);
        int oh = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1;
        int ow = (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
        if (oh <= 0 || ow <= 0) throw Kernels.shapeError("conv2d", "an input larger than the kernel", x, weight);
        Tensor xc = Kernels.f32(x);
        Tensor wc = weight.contiguous();
        float[] b = MatMul.biasArray(bias, o, "conv2d");
        Tensor out = Tensor.empty(DType.F32, n, o, oh, ow);
        int cg = c / groups, og = o / groups;
        int kdim = cg * kh * kw;
        int p = oh * ow;
        boolean pointwise = kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0;
        float[] col = pointwise ? null : new float[kdim * p];
        Tensor colT = null;
        for (int img = 0; img < n; img++) {
            for (int g = 0; g < groups; g++) {
                long xOff = xc.offset() + ((long) img * c + (long) g * cg) * h * w;
                MemorySegment bSeg;
                long bOff;
                if (pointwise) {
                    bSeg = xc.segment();
                    bOff = xOff;
                } else {
                    im2col(xc.segment(), xOff, cg, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, col);
                    if (colT == null) colT = Tensor.empty(DType.F32, kdim, p);
                    MemorySegment.copy(col, 0, colT.segment(), Kernels.F32, 0, col.length);
                    bSeg = colT.segment();
                    bOff = 0;
                }
                float[] gb = null;
                if (b != null) {
                    gb = new float[og];
                    System.arraycopy(b, g * og, gb, 0, og);
                }
                // out[og, p] = W[og, kdim] · col[kdim, p]; the bias is per row here, added below.
                long outOff = ((long) img * o + (long) g * og) * p;
                Gemm.gemm(og, p, kdim,
                        wc.segment(), wc.offset() + (long) g * og * kdim, kdim, 1,
                        bSeg, DType.F32, bOff, p, 1,
                        out.segment(), outOff, p, null, false);
                if (gb != null) {
                    MemorySegment os = out.segment();
                    for (int r = 0; r < og; r++) {
                        for (int q = 0; q < p; q++) {
                            long i = outOff + (long) r * p + q;
                            os.setAtIndex(Kernels.F32, i, os.getAtIndex(Kernels.F32, i) + gb[r]);
                        }
                    }
                }
            }
        }
        if (colT != null) colT.close();
        return out;
    }

    static void im2col(MemorySegment x, long off, int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw,
                       int dh, int dw, int oh, int ow, float[] col) {
        int p = oh * ow;
        Parallel.forEach(c, ch -> {
            for (int ky = 0; ky < kh; ky++) {
                for (int kx = 0; kx < kw; kx++) {
                    int row = (ch * kh + ky) * kw + kx;
                    int base = row * p;
                    for (int y = 0; y < oh; y++) {
                        int iy = y * sh - ph + ky * dh;
                        for (int xo = 0; xo < ow; xo++) {
                            int ix = xo * sw - pw + kx * dw;
                            float v = 0f;
                            if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                v = x.getAtIndex(Kernels.F32, off + ((long) ch * h + iy) * w + ix);
                            }
                            col[base + y * ow + xo] = v;
                        }
                    }
                }
            }
        });
    }

    static Tensor convTemporal(Tensor x, Tensor weight, Tensor bias, int padT) {
        Kernels.requireFloat(x, "convTemporal input");
        if (x.rank() != 5 || weight.rank() != 5 || weight.dim(1) != x.dim(1) || weight.dim(3) != 1 || weight.dim(4) != 1) {
            throw Kernels.shapeError("convTemporal", "x[N, C, F, H, W] and weight[O, C, kt, 1, 1]", x, weight);
        }
        int n = x.dim(0), c = x.dim(1), f = x.dim(2), h = x.dim(3), w = x.dim(4);
        int o = weight.dim(0), kt = weight.dim(2);
        int fo = f + 2 * padT - kt + 1;
        // Treat frames as the height of a 2-D convolution over [N, C, F, H·W] with kernel (kt, 1).
        Tensor x4 = x.reshape(n, c, f, h * w);
        Tensor w4 = weight.reshape(o, c, kt, 1);
        Tensor y = conv2d(x4, w4, bias, 1, 1, padT, 0, 1, 1, 1);
        return y.reshape(n, o, fo, h, w);
    }
}
