package dev.zoetrope.models.internvl;

import dev.zoetrope.core.Json;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.testing.Fixtures;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * pixel_values of a preprocess case rebuilt from the fixture's stored Pillow outputs (README "How to rebuild
 * the exact pixel_values": crop the resized PNG row-major, append the thumbnail, normalise in float32) and
 * checked against the recorded sha256, so the model tests do not depend on the resampler.
 */
final class FixturePixelValues {
    private static final float[] MEAN = {0.485f, 0.456f, 0.406f};
    private static final float[] STD = {0.229f, 0.224f, 0.225f};

    private FixturePixelValues() {
    }

    static Json.Obj preprocessCase(String name) {
        Json.Obj manifest = Fixtures.json(InternVlFixtures.folder().resolve("preprocess/manifest.json"));
        for (Object o : manifest.list("cases")) {
            Json.Obj c = Json.Obj.of(o);
            if (name.equals(c.string("name", null))) return c;
        }
        throw new IllegalStateException("preprocess case " + name + " not in preprocess/manifest.json");
    }

    /** The name of a preprocess case that gives one tile (the cheapest image input). */
    static String singleTileCase() {
        Json.Obj manifest = Fixtures.json(InternVlFixtures.folder().resolve("preprocess/manifest.json"));
        for (Object o : manifest.list("cases")) {
            Json.Obj c = Json.Obj.of(o);
            if (c.intValue("num_tiles", 0) == 1) return c.string("name", null);
        }
        throw new IllegalStateException("no single-tile case in preprocess/manifest.json");
    }

    /** [tiles, 3, 448, 448] F32 in the current scope, bit-exact with the reference (sha256 checked). */
    static Tensor load(String caseName) {
        Json.Obj c = preprocessCase(caseName);
        Path folder = InternVlFixtures.folder();
        int tiles = c.intValue("num_tiles", 0);
        int size = c.intValue("image_size", 448);
        float[] data = new float[tiles * 3 * size * size];
        BufferedImage resized = read(folder.resolve(c.string("resized_png", null)));
        List<Object> tileList = c.list("tiles");
        for (int k = 0; k < tiles; k++) {
            Json.Obj tile = Json.Obj.of(tileList.get(k));
            BufferedImage source;
            int x0 = 0, y0 = 0;
            if ("thumbnail".equals(tile.string("source", null))) {
                source = read(folder.resolve(c.string("thumbnail_png", null)));
            } else {
                int[] box = tile.ints("box_xyxy", null);
                source = resized;
                x0 = box[0];
                y0 = box[1];
            }
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    int rgb = source.getRGB(x0 + x, y0 + y);
                    int[] u8 = {(rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff};
                    for (int ch = 0; ch < 3; ch++) {
                        float v = (float) u8[ch] / 255f;
                        data[((k * 3 + ch) * size + y) * size + x] = (v - MEAN[ch]) / STD[ch];
                    }
                }
            }
        }
        assertEquals(c.string("pixel_values_sha256_f32le", null), sha256(data), "pixel_values of " + caseName);
        return Tensor.of(data, tiles, 3, size, size);
    }

    private static BufferedImage read(Path png) {
        try {
            BufferedImage img = ImageIO.read(png.toFile());
            if (img == null) throw new IllegalStateException("not an image: " + png);
            return img;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String sha256(float[] data) {
        ByteBuffer buf = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(data);
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(buf.array()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
