package dev.zoetrope.media;

import dev.zoetrope.core.Json;
import dev.zoetrope.core.testing.Fixtures;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

/** Every Pillow filter against Pillow's own outputs (test resources, see pillow/README.md), exact. */
class PillowFiltersTest {
    static Path resources() {
        try {
            return Path.of(PillowFiltersTest.class.getResource("/pillow/resize_cases.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @TestFactory
    List<DynamicTest> everyFilterMatchesPillow() {
        Path dir = resources();
        List<DynamicTest> tests = new ArrayList<>();
        for (Object o : Fixtures.json(dir.resolve("resize_cases.json")).list("cases")) {
            Json.Obj c = Json.Obj.of(o);
            tests.add(DynamicTest.dynamicTest(c.string("expected", "?"), () -> check(dir, c)));
        }
        return tests;
    }

    private static void check(Path dir, Json.Obj c) {
        RgbImage source = Images.read(dir.resolve(c.string("source", null)));
        RgbImage expected = Images.read(dir.resolve(c.string("expected", null)));
        int[] size = c.ints("size_wh", null);
        PillowResize.Filter filter = PillowResize.Filter.valueOf(c.string("filter", null));
        float[] box = {0, 0, source.width(), source.height()};
        if (c.raw("box") instanceof List<?> b) {
            for (int i = 0; i < 4; i++) box[i] = ((Number) b.get(i)).floatValue();
        }
        boolean grey = "L".equals(c.string("mode", "RGB"));
        int bands = grey ? 1 : 3;
        byte[] in = grey ? band0(source) : source.pixels();
        byte[] want = grey ? band0(expected) : expected.pixels();
        for (boolean vector : new boolean[]{true, false}) {
            byte[] got = PillowResize.resize(in, source.width(), source.height(), bands, size[0], size[1], filter, box, vector);
            int diff = 0, max = 0;
            for (int i = 0; i < want.length; i++) {
                int d = Math.abs((got[i] & 0xff) - (want[i] & 0xff));
                if (d > 0) diff++;
                max = Math.max(max, d);
            }
            if (diff > 0) fail((vector ? "vector" : "scalar") + " path: " + diff + " of " + want.length + " bytes differ, max " + max);
        }
    }

    private static byte[] band0(RgbImage image) {
        byte[] out = new byte[image.width() * image.height()];
        for (int i = 0; i < out.length; i++) out[i] = image.pixels()[i * 3];
        return out;
    }

    @Test
    void vectorAndScalarPathsAgreeOnLargeRandomImages() {
        Random random = new Random(7);
        byte[] px = new byte[333 * 251 * 3];
        random.nextBytes(px);
        for (PillowResize.Filter f : PillowResize.Filter.values()) {
            float[] box = {0, 0, 333, 251};
            assertArrayEquals(PillowResize.resize(px, 333, 251, 3, 190, 517, f, box, false),
                    PillowResize.resize(px, 333, 251, 3, 190, 517, f, box, true), f.name());
        }
    }

    @Test
    void sameSizeIsACopyAndTallImagesGoVerticalFirst() {
        RgbImage img = new RgbImage(2, 3, new byte[]{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18});
        assertEquals(img, PillowResize.resize(img, 2, 3));
        // A 1×300 column shrunk to 1×3 with BOX is the mean of each 100-row block, whichever order runs.
        byte[] column = new byte[300 * 3];
        for (int i = 0; i < 300; i++) column[i * 3] = (byte) (i < 100 ? 30 : i < 200 ? 60 : 90);
        RgbImage out = PillowResize.resize(new RgbImage(1, 300, column), 1, 3, PillowResize.Filter.BOX);
        assertEquals(30, out.get(0, 0, 0));
        assertEquals(60, out.get(0, 1, 0));
        assertEquals(90, out.get(0, 2, 0));
    }

    @Test
    void badArgumentsAreRejected() {
        RgbImage img = RgbImage.blank(4, 4);
        assertThrows(IllegalArgumentException.class, () -> PillowResize.resize(img, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> PillowResize.resize(img.pixels(), 4, 4, 3, 2, 2,
                PillowResize.Filter.BICUBIC, new float[]{0, 0, 5, 4}));
        assertThrows(IllegalArgumentException.class, () -> PillowResize.resize(new byte[5], 4, 4, 3, 2, 2,
                PillowResize.Filter.BICUBIC, new float[]{0, 0, 4, 4}));
    }
}
