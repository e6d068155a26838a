package dev.zoetrope.diffusion.pipelines;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.media.ImageTensors;
import dev.zoetrope.media.PillowResize;
import dev.zoetrope.media.RgbImage;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static dev.zoetrope.core.Ops.affine;
import static dev.zoetrope.core.Ops.clamp;

/**
 * diffusers' {@code VaeImageProcessor} for PIL inputs, as the Stable Diffusion pipelines configure it: images are
 * resized with Pillow's Lanczos filter to the requested size (by default the image's own, rounded down to a
 * multiple of the VAE scale factor), scaled to [0, 1] then to [−1, 1]; the inpainting mask processor resizes the
 * same way, converts to "L" (ITU-R 601 luma, Pillow's fixed point), scales to [0, 1] and binarises at 0.5. Outputs
 * go back as {@code clamp(x·0.5 + 0.5, 0, 1)}, and to uint8 with {@code round(x·255)} (half to even, numpy's).
 * Tensors are allocated in the current scope.
 */
public final class VaeImageProcessor {
    private VaeImageProcessor() {
    }

    /** {@code get_default_height_width}: a size rounded down to a multiple of {@code factor}. */
    public static int roundDown(int size, int factor) {
        return size - size % factor;
    }

    /** {@code image.resize((width, height), LANCZOS)}, a copy when the size is unchanged. */
    public static RgbImage resize(RgbImage image, int width, int height) {
        if (width < 1 || height < 1) {
            throw new IllegalArgumentException("cannot resize a " + image.width() + "x" + image.height() + " image to "
                    + width + "x" + height);
        }
        return PillowResize.resize(image, width, height, PillowResize.Filter.LANCZOS);
    }

    /** {@code preprocess(image, height, width)}: [1, 3, height, width] F32 in [−1, 1]. */
    public static Tensor preprocess(RgbImage image, int width, int height) {
        return ImageTensors.toTensor(resize(image, width, height), ImageTensors.Range.MINUS_ONE_ONE);
    }

    /**
     * The inpainting {@code mask_processor.preprocess(mask, height, width)}: resize (Lanczos), convert("L"), /255,
     * binarise (&lt; 0.5 → 0, else 1) → [1, 1, height, width] F32 of 0s and 1s.
     */
    public static Tensor maskCondition(RgbImage mask, int width, int height) {
        byte[] rgb = resize(mask, width, height).pixels();
        int n = width * height;
        Tensor out = Tensor.empty(DType.F32, 1, 1, height, width);
        MemorySegment s = out.segment();
        for (int p = 0; p < n; p++) {
            int luma = luma(rgb[3 * p] & 0xff, rgb[3 * p + 1] & 0xff, rgb[3 * p + 2] & 0xff);
            s.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, p, luma / 255f >= 0.5f ? 1f : 0f);
        }
        return out;
    }

    /** Pillow's RGB → "L": {@code (R·19595 + G·38470 + B·7471 + 2^15) >> 16}. */
    static int luma(int r, int g, int b) {
        return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
    }

    /** {@code denormalize}: decoded images [N, 3, H, W] in [−1, 1] → {@code clamp(x·0.5 + 0.5, 0, 1)}. */
    public static Tensor denormalize(Tensor decoded) {
        return clamp(affine(decoded, 0.5f, 0.5f), 0f, 1f);
    }

    /** {@code postprocess(output_type="np")}: [N, H, W, 3] F32 in [0, 1]. */
    public static Tensor toNumpyLayout(Tensor decoded) {
        return denormalize(decoded).permute(0, 2, 3, 1).contiguous();
    }

    /** {@code postprocess(output_type="pil")}: one 8-bit image per batch entry. */
    public static List<RgbImage> toImages(Tensor decoded) {
        List<RgbImage> images = new ArrayList<>(decoded.dim(0));
        for (int i = 0; i < decoded.dim(0); i++) {
            images.add(ImageTensors.toImage(decoded.select(0, i), ImageTensors.Range.MINUS_ONE_ONE));
        }
        return images;
    }
}
