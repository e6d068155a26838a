package dev.zoetrope.media;

import java.util.Arrays;
import java.util.Objects;

/**
 * An 8-bit RGB image, what PIL calls mode "RGB": {@code pixels} holds width·height·3 bytes, row-major,
 * channels interleaved (R, G, B), i.e. the [H, W, 3] uint8 layout of {@code numpy.asarray(image)}.
 * The array is owned by the image; methods never modify it in place.
 */
public final class RgbImage {
    public static final int CHANNELS = 3;

    private final int width;
    private final int height;
    private final byte[] pixels;

    /** Wraps {@code pixels} (width·height·3 bytes, not copied). */
    public RgbImage(int width, int height, byte[] pixels) {
        if (width < 1 || height < 1) throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
        Objects.requireNonNull(pixels, "pixels");
        if ((long) width * height * CHANNELS != pixels.length) {
            throw new IllegalArgumentException("an RGB image of " + width + "x" + height + " needs " + (long) width * height * CHANNELS
                    + " bytes, got " + pixels.length);
        }
        this.width = width;
        this.height = height;
        this.pixels = pixels;
    }

    /** A black image. */
    public static RgbImage blank(int width, int height) {
        return new RgbImage(width, height, new byte[Math.multiplyExact(Math.multiplyExact(width, height), CHANNELS)]);
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    /** The backing bytes (row-major, RGB interleaved); callers must not modify them. */
    public byte[] pixels() {
        return pixels;
    }

    /** Channel {@code c} (0 = R, 1 = G, 2 = B) of pixel (x, y), 0…255. */
    public int get(int x, int y, int c) {
        if (x < 0 || x >= width || y < 0 || y >= height || c < 0 || c >= CHANNELS) {
            throw new IndexOutOfBoundsException("(" + x + ", " + y + ", " + c + ") outside " + width + "x" + height + "x3");
        }
        return pixels[(y * width + x) * CHANNELS + c] & 0xff;
    }

    /**
     * The region [x0, x1) × [y0, y1), as PIL's {@code Image.crop((x0, y0, x1, y1))} for a box inside the image.
     */
    public RgbImage crop(int x0, int y0, int x1, int y1) {
        if (x0 < 0 || y0 < 0 || x1 > width || y1 > height || x1 <= x0 || y1 <= y0) {
            throw new IllegalArgumentException("crop box (" + x0 + ", " + y0 + ", " + x1 + ", " + y1 + ") is not inside the "
                    + width + "x" + height + " image");
        }
        int w = x1 - x0, h = y1 - y0;
        byte[] out = new byte[w * h * CHANNELS];
        for (int y = 0; y < h; y++) {
            System.arraycopy(pixels, ((y0 + y) * width + x0) * CHANNELS, out, y * w * CHANNELS, w * CHANNELS);
        }
        return new RgbImage(w, h, out);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RgbImage other && other.width == width && other.height == height && Arrays.equals(other.pixels, pixels);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * width + height) + Arrays.hashCode(pixels);
    }

    @Override
    public String toString() {
        return "RgbImage[" + width + "x" + height + "]";
    }
}
