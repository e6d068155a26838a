package dev.zoetrope.media;

import dev.zoetrope.core.Parallel;
import dev.zoetrope.core.cpu.Kernels;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Pillow's {@code Image.resize} for 8-bit images, bit-exact: the same decisions as {@code Image.resize} and
 * {@code _imaging.c _resize} (copy / crop / nearest-neighbour affine scale / convolution), and for the
 * convolution filters the arithmetic of {@code libImaging/Resample.c}: per output pixel a window of
 * filter weights computed in double, support widened by the downscale factor (antialiasing), weights
 * normalised to sum 1 and turned into 22-bit fixed point; a horizontal pass over the rows the vertical pass
 * needs, rounded and clipped to uint8, then a vertical pass, rounded and clipped again. Written from reading
 * Pillow 12.3's sources; the uint8 results match Pillow exactly (see the parity tests).
 */
public final class PillowResize {
    /** Pillow's {@code Image.Resampling} filters. */
    public enum Filter {
        NEAREST(0), BOX(0.5), BILINEAR(1.0), HAMMING(1.0), BICUBIC(2.0), LANCZOS(3.0);

        /** Half-width of the filter at scale 1, in input pixels. */
        final double support;

        Filter(double support) {
            this.support = support;
        }

        double weight(double x) {
            return switch (this) {
                case BOX -> (x > -0.5 && x <= 0.5) ? 1.0 : 0.0;
                case BILINEAR -> {
                    double ax = Math.abs(x);
                    yield ax < 1.0 ? 1.0 - ax : 0.0;
                }
                case HAMMING -> {
                    double ax = Math.abs(x);
                    if (ax == 0.0) yield 1.0;
                    if (ax >= 1.0) yield 0.0;
                    ax *= Math.PI;
                    // Pillow writes the constants as C floats (0.54f, 0.46f): keep their float values.
                    yield StrictMath.sin(ax) / ax * ((double) 0.54f + (double) 0.46f * StrictMath.cos(ax));
                }
                case BICUBIC -> {
                    // Keys' cubic convolution with a = -0.5, in Pillow's factored form.
                    final double a = -0.5;
                    double ax = Math.abs(x);
                    if (ax < 1.0) yield ((a + 2.0) * ax - (a + 3.0)) * ax * ax + 1;
                    if (ax < 2.0) yield (((ax - 5) * ax + 8) * ax - 4) * a;
                    yield 0.0;
                }
                case LANCZOS -> (-3.0 <= x && x < 3.0) ? sinc(x) * sinc(x / 3) : 0.0;
                case NEAREST -> throw new IllegalStateException("NEAREST has no convolution kernel");
            };
        }

        private static double sinc(double x) {
            if (x == 0.0) return 1.0;
            x *= Math.PI;
            return StrictMath.sin(x) / x;
        }
    }

    /** Fixed-point bits of the 8-bit coefficients: 8 for the result, 2 spare for overshooting lobes. */
    private static final int PRECISION_BITS = 32 - 8 - 2;
    private static final int HALF = 1 << (PRECISION_BITS - 1);
    /** Rows per parallel task; a constant so the split never depends on the thread count. */
    private static final int ROWS_PER_TASK = 16;

    private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Byte> BYTES = INTS.length() * 8 >= 64
            ? VectorSpecies.of(byte.class, VectorShape.forBitSize(INTS.length() * 8)) : null;
    private static final boolean VECTOR = Kernels.VECTOR && BYTES != null;

    private PillowResize() {
    }

    /** {@code image.resize((width, height))}: Pillow's default filter, BICUBIC. */
    public static RgbImage resize(RgbImage image, int width, int height) {
        return resize(image, width, height, Filter.BICUBIC);
    }

    /** {@code image.resize((width, height), filter)} for an RGB image. */
    public static RgbImage resize(RgbImage image, int width, int height, Filter filter) {
        byte[] out = resize(image.pixels(), image.width(), image.height(), RgbImage.CHANNELS, width, height, filter,
                new float[]{0, 0, image.width(), image.height()});
        return new RgbImage(width, height, out);
    }

    /**
     * {@code image.resize((width, height), filter, box)} on any 8-bit image of {@code bands} interleaved
     * channels (1 = PIL mode "L", e.g. an inpainting mask; 3 = "RGB"). Bands are resampled independently,
     * as Pillow does for "L" and "RGB" (not for "RGBA", which Pillow premultiplies first).
     *
     * @param box the source region {x0, y0, x1, y1} in input pixels (floats, as Pillow's box)
     */
    public static byte[] resize(byte[] pixels, int inWidth, int inHeight, int bands, int width, int height, Filter filter,
                                float[] box) {
        return resize(pixels, inWidth, inHeight, bands, width, height, filter, box, VECTOR);
    }

    /** As {@link #resize(byte[], int, int, int, int, int, Filter, float[])}, choosing the kernel path (tests). */
    static byte[] resize(byte[] pixels, int inWidth, int inHeight, int bands, int width, int height, Filter filter,
                         float[] box, boolean vector) {
        if (bands < 1) throw new IllegalArgumentException("bands must be >= 1, got " + bands);
        if (inWidth < 1 || inHeight < 1) throw new IllegalArgumentException("input size must be positive, got " + inWidth + "x" + inHeight);
        if ((long) inWidth * inHeight * bands != pixels.length) {
            throw new IllegalArgumentException("input of " + inWidth + "x" + inHeight + "x" + bands + " needs "
                    + (long) inWidth * inHeight * bands + " bytes, got " + pixels.length);
        }
        if (box == null || box.length != 4) throw new IllegalArgumentException("box must be {x0, y0, x1, y1}");
        // Image.resize: the same size and the whole image is a plain copy.
        if (width == inWidth && height == inHeight && box[0] == 0 && box[1] == 0 && box[2] == inWidth && box[3] == inHeight) {
            return pixels.clone();
        }
        // Image.resize: very tall images that shrink vertically go vertical-first (Pillow 12).
        if (inHeight > inWidth * 100L && height < inHeight) {
            byte[] tall = imagingResize(pixels, inWidth, inHeight, bands, inWidth, height, filter,
                    new float[]{0, box[1], inWidth, box[3]}, vector);
            return imagingResize(tall, inWidth, height, bands, width, height, filter, new float[]{box[0], 0, box[2], height}, vector);
        }
        return imagingResize(pixels, inWidth, inHeight, bands, width, height, filter, box, vector);
    }

    /** {@code _imaging.c _resize}: argument checks, then crop, nearest-neighbour scale or convolution. */
    private static byte[] imagingResize(byte[] in, int inW, int inH, int bands, int outW, int outH, Filter filter, float[] box,
                                        boolean vector) {
        if (outW < 1 || outH < 1) throw new IllegalArgumentException("height and width must be > 0, got " + outW + "x" + outH);
        if (box[0] < 0 || box[1] < 0) throw new IllegalArgumentException("box offset can't be negative");
        if (box[2] > inW || box[3] > inH) throw new IllegalArgumentException("box can't exceed original image size");
        if (box[2] - box[0] < 0 || box[3] - box[1] < 0) throw new IllegalArgumentException("box can't be empty");
        if (box[0] - (int) box[0] == 0 && box[2] - box[0] == outW && box[1] - (int) box[1] == 0 && box[3] - box[1] == outH) {
            return crop(in, inW, bands, (int) box[0], (int) box[1], outW, outH);
        }
        if (filter == Filter.NEAREST) return scaleNearest(in, inW, inH, bands, outW, outH, box);
        return resample(in, inW, inH, bands, outW, outH, filter, box, vector);
    }

    private static byte[] crop(byte[] in, int inW, int bands, int x0, int y0, int w, int h) {
        byte[] out = new byte[w * h * bands];
        for (int y = 0; y < h; y++) System.arraycopy(in, ((y0 + y) * inW + x0) * bands, out, y * w * bands, w * bands);
        return out;
    }

    /** {@code ImagingScaleAffine}: source coordinate of each output pixel by repeated addition, truncated. */
    private static byte[] scaleNearest(byte[] in, int inW, int inH, int bands, int outW, int outH, float[] box) {
        double ax = (double) (box[2] - box[0]) / outW;
        double ay = (double) (box[3] - box[1]) / outH;
        int[] xin = new int[outW];
        int xmin = outW, xmax = 0;
        double xo = box[0] + ax * 0.5;
        for (int x = 0; x < outW; x++) {
            int xi = xo < 0.0 ? -1 : (int) xo;
            if (xi >= 0 && xi < inW) {
                xmax = x + 1;
                if (x < xmin) xmin = x;
                xin[x] = xi;
            }
            xo += ax;
        }
        byte[] out = new byte[outW * outH * bands];
        double yo = box[1] + ay * 0.5;
        for (int y = 0; y < outH; y++) {
            int yi = yo < 0.0 ? -1 : (int) yo;
            if (yi >= 0 && yi < inH) {
                int inRow = yi * inW * bands, outRow = y * outW * bands;
                for (int x = xmin; x < xmax; x++) {
                    System.arraycopy(in, inRow + xin[x] * bands, out, outRow + x * bands, bands);
                }
            }
            yo += ay;
        }
        return out;
    }

    /** The window [min, min + count) of input pixels and the fixed-point weights of each output pixel. */
    private record Coefficients(int ksize, int[] bounds, int[] weights) {
        int min(int out) {
            return bounds[out * 2];
        }

        int count(int out) {
            return bounds[out * 2 + 1];
        }
    }

    /** {@code precompute_coeffs} + {@code normalize_coeffs_8bpc} for one axis. */
    private static Coefficients coefficients(int inSize, float in0, float in1, int outSize, Filter filter) {
        double scale = (double) (in1 - in0) / outSize;
        double filterScale = Math.max(scale, 1.0);
        double support = filter.support * filterScale;
        int ksize = (int) Math.ceil(support) * 2 + 1;
        if ((long) outSize * ksize > Integer.MAX_VALUE / 8) throw new IllegalArgumentException("resize too large: " + outSize + " outputs");
        double invFilterScale = 1.0 / filterScale;
        double[] k = new double[ksize];
        int[] bounds = new int[outSize * 2];
        int[] weights = new int[outSize * ksize];
        for (int xx = 0; xx < outSize; xx++) {
            double center = in0 + (xx + 0.5) * scale;
            int xmin = Math.max((int) (center - support + 0.5), 0);
            int xmax = Math.min((int) (center + support + 0.5), inSize) - xmin;
            double sum = 0.0;
            for (int x = 0; x < xmax; x++) {
                double w = filter.weight((x + xmin - center + 0.5) * invFilterScale);
                k[x] = w;
                sum += w;
            }
            if (sum != 0.0) {
                for (int x = 0; x < xmax; x++) k[x] /= sum;
            }
            for (int x = 0; x < xmax; x++) {
                double v = k[x] * (1 << PRECISION_BITS);
                weights[xx * ksize + x] = (int) (k[x] < 0 ? -0.5 + v : 0.5 + v);
            }
            bounds[xx * 2] = xmin;
            bounds[xx * 2 + 1] = xmax;
        }
        return new Coefficients(ksize, bounds, weights);
    }

    /** {@code ImagingResampleInner}: horizontal pass over the needed rows, then vertical pass. */
    private static byte[] resample(byte[] in, int inW, int inH, int bands, int outW, int outH, Filter filter, float[] box,
                                   boolean vector) {
        boolean needHorizontal = outW != inW || box[0] != 0 || box[2] != outW;
        boolean needVertical = outH != inH || box[1] != 0 || box[3] != outH;

        Coefficients vert = coefficients(inH, box[1], box[3], outH, filter);
        int firstRow = vert.min(0);
        int lastRow = vert.min(outH - 1) + vert.count(outH - 1);

        byte[] cur = in;
        int curW = inW;
        int rowShift = 0;
        if (needHorizontal) {
            Coefficients horiz = coefficients(inW, box[0], box[2], outW, filter);
            int rows = lastRow - firstRow;
            byte[] tmp = new byte[outW * rows * bands];
            horizontalPass(in, inW, bands, tmp, outW, rows, firstRow, horiz);
            cur = tmp;
            curW = outW;
            rowShift = firstRow;
        }
        if (!needVertical) return cur == in ? in.clone() : cur;
        byte[] out = new byte[curW * outH * bands];
        verticalPass(cur, curW * bands, out, outH, rowShift, vert, vector && VECTOR);
        return out;
    }

    private static int clip8(int acc) {
        int v = acc >> PRECISION_BITS;
        return v < 0 ? 0 : Math.min(v, 255);
    }

    private static void horizontalPass(byte[] in, int inW, int bands, byte[] out, int outW, int rows, int rowOffset, Coefficients c) {
        int ksize = c.ksize();
        int[] w = c.weights();
        Parallel.forEach(Math.ceilDiv(rows, ROWS_PER_TASK), task -> {
            int end = Math.min(rows, (task + 1) * ROWS_PER_TASK);
            for (int yy = task * ROWS_PER_TASK; yy < end; yy++) {
                int inRow = (yy + rowOffset) * inW * bands;
                int outRow = yy * outW * bands;
                for (int xx = 0; xx < outW; xx++) {
                    int xmin = c.min(xx), count = c.count(xx), k = xx * ksize;
                    for (int b = 0; b < bands; b++) {
                        int acc = HALF;
                        int p = inRow + xmin * bands + b;
                        for (int x = 0; x < count; x++, p += bands) acc += (in[p] & 0xff) * w[k + x];
                        out[outRow + xx * bands + b] = (byte) clip8(acc);
                    }
                }
            }
        });
    }

    /** Every byte of a row is filtered the same way, so the rows are processed as flat byte runs. */
    private static void verticalPass(byte[] in, int rowBytes, byte[] out, int outH, int rowShift, Coefficients c, boolean vector) {
        int ksize = c.ksize();
        int[] w = c.weights();
        Parallel.forEach(Math.ceilDiv(outH, ROWS_PER_TASK), task -> {
            int end = Math.min(outH, (task + 1) * ROWS_PER_TASK);
            for (int yy = task * ROWS_PER_TASK; yy < end; yy++) {
                int ymin = c.min(yy) - rowShift, count = c.count(yy), k = yy * ksize;
                int outRow = yy * rowBytes;
                int p = 0;
                if (vector) p = verticalRowVector(in, rowBytes, out, outRow, ymin, count, w, k);
                for (; p < rowBytes; p++) {
                    int acc = HALF;
                    int q = ymin * rowBytes + p;
                    for (int y = 0; y < count; y++, q += rowBytes) acc += (in[q] & 0xff) * w[k + y];
                    out[outRow + p] = (byte) clip8(acc);
                }
            }
        });
    }

    /** Vector path of one output row; returns how many bytes it did (the scalar loop finishes the tail). */
    private static int verticalRowVector(byte[] in, int rowBytes, byte[] out, int outRow, int ymin, int count, int[] w, int k) {
        int lanes = INTS.length();
        int limit = rowBytes - lanes + 1;
        int p = 0;
        for (; p < limit; p += lanes) {
            IntVector acc = IntVector.broadcast(INTS, HALF);
            int q = ymin * rowBytes + p;
            for (int y = 0; y < count; y++, q += rowBytes) {
                IntVector v = (IntVector) ByteVector.fromArray(BYTES, in, q).castShape(INTS, 0);
                acc = acc.add(v.and(0xff).mul(w[k + y]));
            }
            acc = acc.lanewise(VectorOperators.ASHR, PRECISION_BITS).max(0).min(255);
            acc.castShape(BYTES, 0).reinterpretAsBytes().intoArray(out, outRow + p);
        }
        return p;
    }
}
