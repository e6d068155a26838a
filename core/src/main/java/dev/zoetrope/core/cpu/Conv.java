package dev.zoetrope.core.cpu;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Tensor;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Convolutions as GEMM: per image and group, out[O, P] = W[O, C·kh·kw] · col[C·kh·kw, P] + bias[O]. The
 * im2col matrix is never materialised: {@link Im2col} writes its values straight into the packed B panels
 * the micro-kernel reads, and a 1×1 stride-1 convolution multiplies the input planes in place.
 */
final class Conv {
    private Conv() {
    }

    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int sh, int sw, int ph, int pw, int dh, int dw, int groups) {
        Kernels.requireFloat(x, "conv2d input");
        Kernels.requireFloat(weight, "conv2d weight");
        if (x.rank() != 4 || weight.rank() != 4 || groups < 1 || x.dim(1) % groups != 0 || weight.dim(0) % groups != 0
                || weight.dim(1) * groups != x.dim(1) || weight.dim(2) < 1 || weight.dim(3) < 1) {
            throw Kernels.shapeError("conv2d", "x[N, C, H, W] and weight[O, C/" + groups + ", kh ≥ 1, kw ≥ 1]", x, weight);
        }
        if (sh < 1 || sw < 1 || dh < 1 || dw < 1 || ph < 0 || pw < 0) {
            throw new IllegalArgumentException("conv2d: stride and dilation must be ≥ 1 and padding ≥ 0, got stride ("
                    + sh + ", " + sw + "), padding (" + ph + ", " + pw + "), dilation (" + dh + ", " + dw + ")");
        }
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        int o = weight.dim(0), kh = weight.dim(2), kw = weight.dim(3);
        int oh = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1;
        int ow = (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
        if (h + 2 * ph < dh * (kh - 1) + 1 || w + 2 * pw < dw * (kw - 1) + 1) {
            throw Kernels.shapeError("conv2d", "a padded input at least as large as the dilated kernel", x, weight);
        }
        Tensor xc = Kernels.f32(x);
        Tensor wc = weight.isContiguous() ? weight : weight.contiguous();  // F16/BF16 stay as stored: widened in packing
        float[] b = MatMul.biasArray(bias, o, "conv2d");
        Tensor out = Tensor.empty(DType.F32, n, o, oh, ow);
        int cg = c / groups, og = o / groups;
        int kdim = cg * kh * kw;
        int p = oh * ow;
        boolean pointwise = kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0;
        if (Winograd.applies(c, o, kh, kw, sh, sw, ph, pw, dh, dw, groups, oh, ow)) {
            Winograd.Transformed filters = Winograd.filters(wc, Winograd.tiles(n, oh, ow));
            if (filters != null) {
                Winograd.conv2d(xc, filters, b, ph, pw, out);
                filters.release();
                Kernels.release(xc, x);
                return out;
            }
        }
        for (int img = 0; img < n; img++) {
            for (int g = 0; g < groups; g++) {
                long xOff = xc.offset() + ((long) img * c + (long) g * cg) * h * w;
                long wOff = wc.offset() + (long) g * og * kdim;
                long outOff = ((long) img * o + (long) g * og) * p;
                float[] gb = b == null ? null : Arrays.copyOfRange(b, g * og, (g + 1) * og);
                // out[og, p] = W[og, kdim] · col[kdim, p] + bias[og]
                if (pointwise) {
                    Gemm.gemm(og, p, kdim, wc.segment(), wc.dtype(), wOff, kdim, 1,
                            xc.segment(), DType.F32, xOff, p, 1,
                            out.segment(), outOff, p, gb, null, false);
                } else {
                    Panels.A weights = new Panels.Strided(wc.segment(), wc.dtype(), wOff, kdim, 1);
                    Im2col cols = new Im2col(xc.segment(), xOff, h, w, kh, kw, sh, sw, ph, pw, dh, dw, ow);
                    Gemm.multiply(og, p, kdim, weights, cols, out.segment(), outOff, p, gb, null, false, Gemm.TILE);
                }
            }
        }
        return out;
    }

    /**
     * The im2col matrix of one image plane group, col[(ch·kh + ky)·kw + kx, oy·ow + ox] =
     * x[ch, oy·sh − ph + ky·dh, ox·sw − pw + kx·dw] (zero outside), produced panel by panel.
     */
    record Im2col(MemorySegment x, long xOff, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw,
                  int dh, int dw, int ow) implements Panels.B {
        @Override
        public void packColumns(int p0, int kc, int j0, int cols, int nr, float[] dst, int off) {
            int khw = kh * kw;
            int ch = p0 / khw, ky = p0 % khw / kw, kx = p0 % kw;
            for (int p = 0; p < kc; p++) {
                int d = off + p * nr;
                long plane = xOff + (long) ch * h * w;
                // The panel's columns are consecutive pixels: one run per output row they touch.
                int oy = j0 / ow, ox = j0 % ow;
                for (int j = 0; j < cols; ) {
                    int run = Math.min(cols - j, ow - ox);
                    packRun(plane, oy, ox, ky, kx, run, run == nr, dst, d + j);
                    j += run;
                    ox = 0;
                    oy++;
                }
                Arrays.fill(dst, d + cols, d + nr, 0f);
                if (++kx == kw) {
                    kx = 0;
                    if (++ky == kh) {
                        ky = 0;
                        ch++;
                    }
                }
            }
        }

        /**
         * {@code len} values for output pixels (oy, ox0…ox0+len−1) at kernel offset (ky, kx). With stride 1 they
         * are a contiguous run of an input row, zero where it leaves the row; a whole panel is copied with
         * vectors, masking the lanes outside the row.
         */
        private void packRun(long plane, int oy, int ox0, int ky, int kx, int len, boolean wholePanel, float[] dst, int d) {
            int iy = oy * sh - ph + ky * dh;
            if (iy < 0 || iy >= h) {
                Arrays.fill(dst, d, d + len, 0f);
                return;
            }
            int ixStart = ox0 * sw - pw + kx * dw;
            long row = plane + (long) iy * w;
            if (sw != 1) {
                for (int j = 0; j < len; j++) {
                    int ix = ixStart + j * sw;
                    dst[d + j] = ix >= 0 && ix < w ? x.getAtIndex(Kernels.F32, row + ix) : 0f;
                }
                return;
            }
            int lo = Math.clamp(-ixStart, 0, len), hi = Math.clamp(w - ixStart, lo, len);
            long src = row + ixStart;
            int l = Kernels.FLOATS;
            if (Kernels.VECTOR && wholePanel && len % l == 0 && src >= 0 && (src + len) * Float.BYTES <= x.byteSize()) {
                // Lanes outside [lo, hi) read the neighbouring row (valid memory) and are replaced by zeros.
                FloatVector zero = FloatVector.zero(Kernels.F);
                for (int v = 0; v < len; v += l) {
                    FloatVector values = FloatVector.fromMemorySegment(Kernels.F, x, (src + v) * Float.BYTES, ORDER);
                    if (lo > v || hi < v + l) values = zero.blend(values, Kernels.F.indexInRange(v - lo, hi - lo));
                    values.intoArray(dst, d + v);
                }
                return;
            }
            for (int j = 0; j < lo; j++) dst[d + j] = 0f;
            for (int j = lo; j < hi; j++) dst[d + j] = x.getAtIndex(Kernels.F32, src + j);
            for (int j = hi; j < len; j++) dst[d + j] = 0f;
        }
    }

    /**
     * Convolution over frames, x[N, C, F, H, W] with weight[O, C, kt, 1, 1]: a 2-D convolution over
     * [N, C, F, H·W] with kernel (kt, 1), whose im2col panels are contiguous runs of a frame.
     */
    static Tensor convTemporal(Tensor x, Tensor weight, Tensor bias, int padT) {
        Kernels.requireFloat(x, "convTemporal input");
        Kernels.requireFloat(weight, "convTemporal weight");
        if (x.rank() != 5 || weight.rank() != 5 || weight.dim(1) != x.dim(1) || weight.dim(3) != 1 || weight.dim(4) != 1) {
            throw Kernels.shapeError("convTemporal", "x[N, C, F, H, W] and weight[O, C, kt, 1, 1]", x, weight);
        }
        int n = x.dim(0), c = x.dim(1), f = x.dim(2), h = x.dim(3), w = x.dim(4);
        int o = weight.dim(0), kt = weight.dim(2);
        int fo = f + 2 * padT - kt + 1;
        Tensor x4 = Kernels.f32(x).reshape(n, c, f, h * w);
        Tensor w4 = weight.reshape(o, c, kt, 1);
        Tensor y = conv2d(x4, w4, bias, 1, 1, padT, 0, 1, 1, 1);
        return y.reshape(n, o, fo, h, w);
    }
}
