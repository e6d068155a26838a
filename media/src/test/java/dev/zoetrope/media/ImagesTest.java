package dev.zoetrope.media;

import dev.zoetrope.core.Json;
import dev.zoetrope.core.testing.Fixtures;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class ImagesTest {

    /**
     * Decoding equals Pillow's {@code Image.open(f).convert("RGB")} exactly (JPEG included: the JDK's
     * decoder gives libjpeg-turbo's bytes on these files), except lossy WebP: TwelveMonkeys' VP8 decoder
     * converts YUV to RGB differently from libwebp (observed mean |diff| 6.4, max 73 at sharp colour
     * edges), so it is held to a mean bound only.
     */
    @TestFactory
    List<DynamicTest> decodingMatchesPillowConvertRgb() {
        Path dir = PillowFiltersTest.resources();
        List<DynamicTest> tests = new ArrayList<>();
        for (Object o : Fixtures.json(dir.resolve("decode_cases.json")).list("cases")) {
            Json.Obj c = Json.Obj.of(o);
            String file = c.string("file", null);
            boolean lossyWebp = file.endsWith("lossy.webp");
            tests.add(DynamicTest.dynamicTest(file + " (" + c.string("pil_mode", "?") + ")", () -> {
                RgbImage got = Images.read(dir.resolve(file));
                RgbImage want = Images.read(dir.resolve(c.string("expected_rgb", null)));
                assertEquals(want.width(), got.width());
                assertEquals(want.height(), got.height());
                int max = 0, diff = 0;
                long sum = 0;
                for (int i = 0; i < want.pixels().length; i++) {
                    int d = Math.abs((got.pixels()[i] & 0xff) - (want.pixels()[i] & 0xff));
                    max = Math.max(max, d);
                    sum += d;
                    if (d > 0) diff++;
                }
                double mean = (double) sum / want.pixels().length;
                if (lossyWebp ? mean > 8 : max > 0) {
                    fail(file + ": " + diff + " bytes differ from Pillow, max " + max + ", mean " + mean);
                }
            }));
        }
        return tests;
    }

    @Test
    void pngRoundTripKeepsPixelsAndParameters(@TempDir Path dir) {
        RgbImage img = Images.read(PillowFiltersTest.resources().resolve("source_rgb.png"));
        Path out = dir.resolve("out.png");
        String params = "a red fox\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 42, Size: 61x47";
        Images.writePng(img, out, params);
        assertEquals(img, Images.read(out));
        assertEquals(Map.of("parameters", params), Images.readPngText(out));
        // Text outside Latin-1 goes to iTXt and reads back the same.
        Images.writePng(img, out, Map.of("parameters", "一只狐狸 🦊", "Software", "Zoetrope"));
        assertEquals(Map.of("parameters", "一只狐狸 🦊", "Software", "Zoetrope"), Images.readPngText(out));
    }

    @Test
    void writeIsAtomic(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("keep.png");
        RgbImage img = RgbImage.blank(3, 2);
        Images.writePng(img, out);
        byte[] before = Files.readAllBytes(out);
        assertThrows(IllegalArgumentException.class, () -> Images.writePng(img, out, Map.of("", "bad key")));
        IOException failure = assertThrows(IOException.class, () -> AtomicFiles.write(out, tmp -> {
            Files.write(tmp, new byte[]{1, 2, 3});
            throw new IOException("disk full");
        }));
        assertEquals("disk full", failure.getMessage());
        assertEquals(List.of(out), listing(dir), "no temporary file is left behind");
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(out)), "the old file is untouched");
    }

    /** The finished file gets the permissions of any new file (not owner-only); an overwritten file keeps its own. */
    @Test
    void writtenFilesHaveOrdinaryPermissions(@TempDir Path dir) throws IOException {
        Path plain = Files.createFile(dir.resolve("plain.txt"));
        assumeTrue(plain.getFileSystem().supportedFileAttributeViews().contains("posix"), "POSIX permissions only");
        Path out = dir.resolve("new.png");
        Images.writePng(RgbImage.blank(2, 2), out);
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(out));

        var custom = java.nio.file.attribute.PosixFilePermissions.fromString("rw-r-----");
        Files.setPosixFilePermissions(out, custom);
        Images.writePng(RgbImage.blank(3, 3), out);
        assertEquals(custom, Files.getPosixFilePermissions(out));
        assertEquals(3, Images.read(out).width());
    }

    private static List<Path> listing(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.toList();
        }
    }

    @Test
    void unreadableFilesGiveErrorsNamingThem(@TempDir Path dir) throws IOException {
        Path garbage = dir.resolve("garbage.png");
        Files.write(garbage, "this is not an image".getBytes());
        MediaException e = assertThrows(MediaException.class, () -> Images.read(garbage));
        assertTrue(e.getMessage().contains(garbage.toString()), e.getMessage());
        Path truncated = dir.resolve("truncated.png");
        byte[] png = Files.readAllBytes(PillowFiltersTest.resources().resolve("source_rgb.png"));
        Files.write(truncated, java.util.Arrays.copyOf(png, png.length / 2));
        e = assertThrows(MediaException.class, () -> Images.read(truncated));
        assertTrue(e.getMessage().contains(truncated.toString()), e.getMessage());
        e = assertThrows(MediaException.class, () -> Images.read(dir.resolve("missing.jpg")));
        assertTrue(e.getMessage().contains("missing.jpg"), e.getMessage());
    }
}
