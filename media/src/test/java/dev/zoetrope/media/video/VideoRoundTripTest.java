package dev.zoetrope.media.video;

import dev.zoetrope.media.MediaException;
import dev.zoetrope.media.RgbImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Encodes a synthetic clip, decodes it back: frame count, fps, pixels (lossy: mean error bound). */
class VideoRoundTripTest {
    static final int W = 96, H = 64;

    /** A smooth gradient with a bright square moving 3 px per frame: every frame differs. */
    static List<RgbImage> clip(int n) {
        List<RgbImage> frames = new ArrayList<>();
        for (int f = 0; f < n; f++) {
            byte[] px = new byte[W * H * 3];
            for (int y = 0; y < H; y++) {
                for (int x = 0; x < W; x++) {
                    int i = (y * W + x) * 3;
                    boolean square = x >= 3 * f % (W - 16) && x < 3 * f % (W - 16) + 16 && y >= 20 && y < 36;
                    px[i] = (byte) (square ? 250 : x * 2);
                    px[i + 1] = (byte) (square ? 240 : y * 3);
                    px[i + 2] = (byte) (square ? 30 : 128 + f * 4);
                }
            }
            frames.add(new RgbImage(W, H, px));
        }
        return frames;
    }

    static double meanAbsDiff(RgbImage a, RgbImage b) {
        long sum = 0;
        for (int i = 0; i < a.pixels().length; i++) sum += Math.abs((a.pixels()[i] & 0xff) - (b.pixels()[i] & 0xff));
        return (double) sum / a.pixels().length;
    }

    private static void roundTrip(Path file, double fps, int n, double maxMeanError, String expectedCodec) {
        List<RgbImage> frames = clip(n);
        String codec;
        try (VideoWriter out = VideoWriter.open(file, W, H, fps)) {
            codec = out.codecName();
            for (RgbImage f : frames) out.write(f);
            out.finish();
        }
        assertEquals(expectedCodec, codec);
        try (VideoReader in = VideoReader.open(file)) {
            assertEquals(n, in.frameCount(), "frame count");
            assertEquals(fps, in.averageFps(), 1e-6, "fps");
            assertEquals(W, in.width());
            assertEquals(H, in.height());
            List<RgbImage> all = in.frames(java.util.stream.IntStream.range(0, n).toArray());
            for (int i = 0; i < n; i++) {
                double err = meanAbsDiff(frames.get(i), all.get(i));
                assertTrue(err < maxMeanError, file.getFileName() + " frame " + i + ": mean |diff| " + err);
                // The right frame, not a neighbour: closer to its own source than to the next one.
                if (i + 1 < n) assertTrue(err < meanAbsDiff(frames.get(i + 1), all.get(i)), "frame " + i + " is out of place");
            }
            // Random access (backwards, repeated, after the end of a sequential pass) gives the same frames.
            List<RgbImage> picked = in.frames(new int[]{n - 1, 2, 2, n / 2, 0});
            assertEquals(all.get(n - 1), picked.get(0));
            assertEquals(all.get(2), picked.get(1));
            assertEquals(all.get(2), picked.get(2));
            assertEquals(all.get(n / 2), picked.get(3));
            assertEquals(all.get(0), picked.get(4));
            assertEquals(all.get(n - 3), in.frame(n - 3));
            assertThrows(IndexOutOfBoundsException.class, () -> in.frame(n));
            // Keyframe seeks for every jump give the same frames as decoding from the start.
            in.forwardDecodeLimit(0);
            for (int i : new int[]{n - 2, 1, n / 2 + 1, n / 3, n - 1, n / 3 + 1}) assertEquals(all.get(i), in.frame(i), "seek to " + i);
        }
    }

    @Test
    void mp4RoundTrip(@TempDir Path dir) {
        roundTrip(dir.resolve("clip.mp4"), 12, 40, 4.0, "libopenh264");
    }

    @Test
    void webmRoundTrip(@TempDir Path dir) {
        roundTrip(dir.resolve("clip.webm"), 8, 12, 4.0, "libvpx-vp9");
    }

    @Test
    void gifRoundTrip(@TempDir Path dir) {
        roundTrip(dir.resolve("clip.gif"), 10, 10, 3.0, "gif");
    }

    @Test
    void garbageAndMissingFilesGiveErrorsNamingThem(@TempDir Path dir) throws IOException {
        Path garbage = dir.resolve("garbage.mp4");
        Files.write(garbage, "definitely not a video, just some text bytes".repeat(50).getBytes());
        MediaException e = assertThrows(MediaException.class, () -> VideoReader.open(garbage));
        assertTrue(e.getMessage().contains(garbage.toString()), e.getMessage());
        e = assertThrows(MediaException.class, () -> VideoReader.open(dir.resolve("missing.webm")));
        assertTrue(e.getMessage().contains("missing.webm"), e.getMessage());
    }

    @Test
    void unfinishedOrFailedWritesLeaveNoFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("partial.mp4");
        try (VideoWriter out = VideoWriter.open(file, W, H, 8)) {
            out.write(clip(1).getFirst());
            assertThrows(IllegalArgumentException.class, () -> out.write(RgbImage.blank(W + 2, H)));
            // no finish(): e.g. the generation was cancelled
        }
        assertThrows(IllegalArgumentException.class, () -> VideoWriter.open(dir.resolve("odd.mp4"), 33, 20, 8));
        assertThrows(MediaException.class, () -> VideoWriter.open(dir.resolve("clip.unknownext"), W, H, 8));
        try (var files = Files.list(dir)) {
            assertFalse(files.findAny().isPresent(), "nothing left in " + dir);
        }
    }
}
