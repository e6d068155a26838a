package dev.zoetrope.models.internvl;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.media.Images;
import dev.zoetrope.media.PillowResize;
import dev.zoetrope.media.RgbImage;
import dev.zoetrope.media.video.VideoReader;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * InternVL2's image input as the model card builds it ({@code load_image} / {@code load_video}):
 * dynamic tiling ({@link ImageTiling}), then per tile {@code build_transform}: Resize((s, s), BICUBIC)
 * (a copy for tiles already s²), ToTensor and ImageNet normalisation in float32, stacked to
 * pixel_values [tiles, 3, s, s]. Bit-exact with torchvision: {@code ((u8 / 255f) − mean) / std}. The tile side s is
 * the model card's input_size, 448 for every InternVL2 checkpoint; pass the checkpoint's
 * {@link InternVLChatConfig#imageSize()} for others.
 */
public final class InternVlPreprocessor {
    /** The model card's input_size (InternVL2's force_image_size). */
    public static final int IMAGE_SIZE = 448;
    /** ImageNet statistics as torchvision's Normalize holds them (float32). */
    static final float[] MEAN = {0.485f, 0.456f, 0.406f};
    static final float[] STD = {0.229f, 0.224f, 0.225f};

    /** pixel_values of one or more images and the number of tiles each contributed (num_patches_list). */
    public record PixelValues(Tensor pixelValues, List<Integer> numPatches) {
    }

    private InternVlPreprocessor() {
    }

    /** {@code load_image(path, input_size=448, max_num)}: the tiles of one image file as pixel_values. */
    public static Tensor loadImage(Path path, int maxNum) {
        return loadImage(path, IMAGE_SIZE, maxNum);
    }

    /** {@code load_image(path, input_size=imageSize, max_num)}: [tiles, 3, imageSize, imageSize]. */
    public static Tensor loadImage(Path path, int imageSize, int maxNum) {
        return pixelValues(ImageTiling.dynamicPreprocess(Images.read(path), 1, maxNum, imageSize, true).images(), imageSize);
    }

    /** The tiles of an already decoded image, as {@code load_image} makes them. */
    public static ImageTiling.Tiles tiles(RgbImage image, int maxNum) {
        return ImageTiling.dynamicPreprocess(image, 1, maxNum, IMAGE_SIZE, true);
    }

    /** {@code torch.stack([build_transform(448)(tile) for tile in tiles])}: [N, 3, 448, 448] F32. */
    public static Tensor pixelValues(List<RgbImage> tiles) {
        return pixelValues(tiles, IMAGE_SIZE);
    }

    /** {@code torch.stack([build_transform(imageSize)(tile) for tile in tiles])}: [N, 3, imageSize, imageSize] F32. */
    public static Tensor pixelValues(List<RgbImage> tiles, int imageSize) {
        if (tiles.isEmpty()) throw new IllegalArgumentException("no tiles");
        int plane = imageSize * imageSize;
        Tensor out = Tensor.empty(DType.F32, tiles.size(), 3, imageSize, imageSize);
        MemorySegment s = out.segment();
        for (int t = 0; t < tiles.size(); t++) {
            RgbImage tile = tiles.get(t);
            if (tile.width() != imageSize || tile.height() != imageSize) {
                tile = PillowResize.resize(tile, imageSize, imageSize, PillowResize.Filter.BICUBIC);
            }
            byte[] px = tile.pixels();
            for (int c = 0; c < 3; c++) {
                long base = ((long) t * 3 + c) * plane;
                float mean = MEAN[c], std = STD[c];
                for (int p = 0; p < plane; p++) {
                    float x = (px[p * 3 + c] & 0xff) / 255f;
                    s.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, base + p, (x - mean) / std);
                }
            }
        }
        return out;
    }

    /**
     * {@code load_video(path, bound, input_size=448, max_num, num_segments)}: frames picked by
     * {@link FrameSampling#getIndex} over the decoded clip (frame count and average fps from the
     * container), each tiled with {@code maxNum} (1 = one tile per frame, as the model card's default).
     */
    public static PixelValues loadVideo(Path path, double[] bound, int maxNum, int numSegments) {
        return loadVideo(path, bound, IMAGE_SIZE, maxNum, numSegments);
    }

    /** {@link #loadVideo(Path, double[], int, int)} with tiles of {@code imageSize}². */
    public static PixelValues loadVideo(Path path, double[] bound, int imageSize, int maxNum, int numSegments) {
        List<RgbImage> frames;
        try (VideoReader reader = VideoReader.open(path)) {
            int[] indices = FrameSampling.getIndex(bound, reader.averageFps(), reader.frameCount() - 1, 0, numSegments);
            frames = reader.frames(indices);
        }
        List<RgbImage> allTiles = new ArrayList<>();
        List<Integer> numPatches = new ArrayList<>();
        for (RgbImage frame : frames) {
            List<RgbImage> tiles = ImageTiling.dynamicPreprocess(frame, 1, maxNum, imageSize, true).images();
            allTiles.addAll(tiles);
            numPatches.add(tiles.size());
        }
        return new PixelValues(pixelValues(allTiles, imageSize), List.copyOf(numPatches));
    }
}
