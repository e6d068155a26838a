package dev.zoetrope.media;

import dev.zoetrope.core.Json;
import dev.zoetrope.core.testing.Fixtures;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Pillow 12.3's {@code image.resize(size)} (BICUBIC, antialiased) against the lossless PNGs of
 * internvl/preprocess: every resized grid image and thumbnail listed in manifest.json, exact to the byte.
 */
class PillowResizeParityTest {

    @TestFactory
    List<DynamicTest> bicubicMatchesPillowOnEveryPreprocessCase() {
        Path folder = Fixtures.folder("internvl");
        Json.Obj manifest = Fixtures.json(folder.resolve("preprocess/manifest.json"));
        List<DynamicTest> tests = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (Object o : manifest.list("cases")) {
            Json.Obj c = Json.Obj.of(o);
            Path source = folder.resolve(c.string("image", null));
            int[] size = c.ints("resized_size_wh", null);
            String resized = c.string("resized_png", null);
            if (seen.add(resized)) {
                tests.add(DynamicTest.dynamicTest(c.string("name", "?") + " grid " + size[0] + "x" + size[1],
                        () -> assertExact(source, size[0], size[1], folder.resolve(resized))));
            }
            String thumb = c.string("thumbnail_png", null);
            int tile = c.intValue("image_size", -1);
            if (thumb != null && seen.add(thumb)) {
                tests.add(DynamicTest.dynamicTest(c.string("name", "?") + " thumbnail " + tile + "x" + tile,
                        () -> assertExact(source, tile, tile, folder.resolve(thumb))));
            }
        }
        if (tests.isEmpty()) fail("no cases in " + folder.resolve("preprocess/manifest.json"));
        return tests;
    }

    static void assertExact(Path source, int width, int height, Path expectedPng) {
        RgbImage expected = Images.read(expectedPng);
        RgbImage actual = PillowResize.resize(Images.read(source), width, height, PillowResize.Filter.BICUBIC);
        assertEquals(expected.width(), actual.width(), "width");
        assertEquals(expected.height(), actual.height(), "height");
        byte[] a = actual.pixels(), e = expected.pixels();
        int differing = 0, maxDiff = 0, first = -1;
        for (int i = 0; i < a.length; i++) {
            int d = Math.abs((a[i] & 0xff) - (e[i] & 0xff));
            if (d != 0) {
                if (first < 0) first = i;
                differing++;
                maxDiff = Math.max(maxDiff, d);
            }
        }
        if (differing > 0) {
            int px = first / 3;
            fail(expectedPng.getFileName() + ": " + differing + " of " + a.length + " bytes differ, max |diff| " + maxDiff
                    + ", first at (x=" + px % width + ", y=" + px / width + ", c=" + first % 3 + ")");
        }
    }
}
