package dev.zoetrope.models.internvl;

import dev.zoetrope.core.Scope;
import dev.zoetrope.media.RgbImage;
import dev.zoetrope.media.video.VideoReader;
import dev.zoetrope.media.video.VideoWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code load_video} on a clip shaped like the fixtures' (48 frames at 12 fps, 4 segments → frames
 * 5, 17, 29, 40): the sampled frames, one tile each, equal the tiles of those decoded frames.
 */
class LoadVideoTest {
    @Test
    void samplesSegmentCentresOneTilePerFrame(@TempDir Path dir) {
        Path clip = dir.resolve("clip.mp4");
        List<RgbImage> frames = new ArrayList<>();
        for (int f = 0; f < 48; f++) {
            byte[] px = new byte[80 * 60 * 3];
            for (int i = 0; i < px.length; i += 3) {
                px[i] = (byte) (f * 5);
                px[i + 1] = (byte) (i % 240);
                px[i + 2] = (byte) 90;
            }
            frames.add(new RgbImage(80, 60, px));
        }
        VideoWriter.write(clip, frames, 12.0);
        try (Scope s = Scope.open()) {
            InternVlPreprocessor.PixelValues pv = InternVlPreprocessor.loadVideo(clip, null, 1, 4);
            assertEquals(List.of(1, 1, 1, 1), pv.numPatches());
            assertArrayEquals(new int[]{4, 3, 448, 448}, pv.pixelValues().shape());
            List<RgbImage> sampled;
            try (VideoReader reader = VideoReader.open(clip)) {
                assertEquals(48, reader.frameCount());
                sampled = reader.frames(new int[]{5, 17, 29, 40});
            }
            List<RgbImage> tiles = new ArrayList<>();
            for (RgbImage f : sampled) tiles.addAll(InternVlPreprocessor.tiles(f, 1).images());
            assertArrayEquals(InternVlPreprocessor.pixelValues(tiles).toFloatArray(), pv.pixelValues().toFloatArray());
            // The red channel encodes the frame number (5 per frame): frame 40 decodes near 200.
            assertEquals(200, sampled.get(3).get(40, 30, 0), 6);
        }
    }
}
