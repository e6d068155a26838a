package dev.zoetrope.models.internvl;

import dev.zoetrope.core.Json;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.Weights;
import dev.zoetrope.core.testing.Fixtures;
import dev.zoetrope.media.Images;
import dev.zoetrope.media.RgbImage;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The model card's {@code load_image} against internvl/preprocess/manifest.json, every case: grid, tile
 * count, each tile against the Pillow PNGs (exact), the uint8 tile hash, and pixel_values' float32 bytes
 * (sha256, i.e. bit-exact with torchvision).
 */
class InternVlPreprocessParityTest {
    static Path folder() {
        return Fixtures.folder("internvl");
    }

    static List<Json.Obj> cases() {
        List<Json.Obj> out = new ArrayList<>();
        for (Object o : Fixtures.json(folder().resolve("preprocess/manifest.json")).list("cases")) out.add(Json.Obj.of(o));
        assertFalse(out.isEmpty(), "no cases in preprocess/manifest.json");
        return out;
    }

    @TestFactory
    List<DynamicTest> loadImageMatchesTheModelCard() {
        List<DynamicTest> tests = new ArrayList<>();
        boolean first = true;
        for (Json.Obj c : cases()) {
            boolean viaLoadImage = first; // the file-level entry point once; the rest reuse the tiles (same code)
            tests.add(DynamicTest.dynamicTest(c.string("name", "?"), () -> check(c, viaLoadImage)));
            first = false;
        }
        return tests;
    }

    private static void check(Json.Obj c, boolean viaLoadImage) throws Exception {
        Path dir = folder();
        Path imagePath = dir.resolve(c.string("image", null));
        RgbImage image = Images.read(imagePath);
        assertArrayEquals(c.ints("orig_size_wh", null), new int[]{image.width(), image.height()}, "image size");
        int maxNum = c.intValue("max_num", -1);
        ImageTiling.Tiles tiles = ImageTiling.dynamicPreprocess(image, c.intValue("min_num", 1), maxNum,
                c.intValue("image_size", 448), c.bool("use_thumbnail", true));
        int[] grid = c.ints("grid_cols_rows", null);
        assertEquals(new ImageTiling.Grid(grid[0], grid[1]), tiles.grid(), "grid");
        assertEquals(c.intValue("num_tiles", -1), tiles.count(), "tiles");

        // Each tile against the stored Pillow output: a crop of the resized PNG, or the thumbnail.
        RgbImage resized = Images.read(dir.resolve(c.string("resized_png", null)));
        List<Object> boxes = c.list("tiles");
        for (int t = 0; t < tiles.count(); t++) {
            Json.Obj tile = Json.Obj.of(boxes.get(t));
            RgbImage expected = "thumbnail".equals(tile.string("source", null))
                    ? Images.read(dir.resolve(c.string("thumbnail_png", null)))
                    : crop(resized, tile.ints("box_xyxy", null));
            assertTilesEqual(expected, tiles.images().get(t), c.string("name", "?") + " tile " + t);
        }
        MessageDigest u8 = MessageDigest.getInstance("SHA-256");
        for (RgbImage t : tiles.images()) u8.update(t.pixels());
        assertEquals(c.string("tiles_u8_sha256", null), HexFormat.of().formatHex(u8.digest()), "uint8 tiles sha256");

        try (Scope s = Scope.open()) {
            int size = c.intValue("image_size", -1);
            Tensor pv = viaLoadImage ? InternVlPreprocessor.loadImage(imagePath, size, maxNum)
                    : InternVlPreprocessor.pixelValues(tiles.images(), size);
            assertArrayEquals(c.ints("pixel_values_shape", null), pv.shape(), "pixel_values shape");
            assertEquals(c.string("pixel_values_sha256_f32le", null), sha256F32(pv), "pixel_values float32 sha256");
            String stored = c.string("pixel_values_file", null);
            if (stored != null) {
                try (Weights w = Weights.open(dir.resolve(stored))) {
                    Tensor expected = w.get("pixel_values", c.ints("pixel_values_shape", null));
                    assertArrayEquals(expected.toFloatArray(), pv.toFloatArray(), "pixel_values vs " + stored);
                }
            }
        }
    }

    static RgbImage crop(RgbImage img, int[] box) {
        return img.crop(box[0], box[1], box[2], box[3]);
    }

    static void assertTilesEqual(RgbImage expected, RgbImage actual, String what) {
        assertEquals(expected.width(), actual.width(), what + " width");
        assertEquals(expected.height(), actual.height(), what + " height");
        int differing = 0, max = 0;
        for (int i = 0; i < expected.pixels().length; i++) {
            int d = Math.abs((expected.pixels()[i] & 0xff) - (actual.pixels()[i] & 0xff));
            if (d > 0) differing++;
            max = Math.max(max, d);
        }
        if (differing > 0) fail(what + ": " + differing + " bytes differ from Pillow, max |diff| " + max);
    }

    static String sha256F32(Tensor t) throws Exception {
        float[] v = t.toFloatArray();
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b.array()));
    }

    @Test
    void normalisationIsTorchvisionsFloat32Formula() {
        // ((u8/255) - mean) / std in float32 with float32 constants: spot values a float64 formula would miss.
        try (Scope s = Scope.open()) {
            byte[] px = new byte[448 * 448 * 3];
            px[0] = (byte) 255;
            px[1] = (byte) 128;
            Tensor pv = InternVlPreprocessor.pixelValues(List.of(new RgbImage(448, 448, px)));
            assertEquals((1f - 0.485f) / 0.229f, pv.getFloat(0, 0, 0, 0));
            assertEquals((128 / 255f - 0.456f) / 0.224f, pv.getFloat(0, 1, 0, 0));
            assertEquals((0f - 0.406f) / 0.225f, pv.getFloat(0, 2, 0, 0));
        }
    }
}
