package dev.zoetrope.media;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Images ↔ core tensors, with the float32 arithmetic of the references: {@code x = u8 / 255} (torchvision
 * ToTensor, diffusers {@code pil_to_numpy}), {@code 2x − 1} for [-1, 1] (diffusers {@code normalize}); back
 * with {@code clamp(x/2 + 0.5, 0, 1)} and {@code round(x·255)} half-to-even (diffusers {@code denormalize}
 * + {@code numpy_to_pil}). Tensors are allocated in the current {@link dev.zoetrope.core.Scope}.
 */
public final class ImageTensors {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /** The value range of a float image tensor. */
    public enum Range {
        /** [0, 1]: ToTensor. */
        ZERO_ONE,
        /** [-1, 1]: the VAE's input and output. */
        MINUS_ONE_ONE
    }

    private ImageTensors() {
    }

    /** [1, 3, H, W] F32 in the given range. */
    public static Tensor toTensor(RgbImage image, Range range) {
        int w = image.width(), h = image.height(), plane = w * h;
        Tensor t = Tensor.empty(DType.F32, 1, 3, h, w);
        MemorySegment s = t.segment();
        byte[] px = image.pixels();
        for (int c = 0; c < 3; c++) {
            for (int p = 0; p < plane; p++) {
                float x = (px[p * 3 + c] & 0xff) / 255f;
                s.setAtIndex(F32, (long) c * plane + p, range == Range.MINUS_ONE_ONE ? 2f * x - 1f : x);
            }
        }
        return t;
    }

    /** An image from a [1, 3, H, W] or [3, H, W] float tensor (any float dtype) in the given range. */
    public static RgbImage toImage(Tensor tensor, Range range) {
        int[] shape = tensor.shape();
        if (!tensor.dtype().isFloatingPoint() || !(shape.length == 3 || shape.length == 4 && shape[0] == 1)
                || shape[shape.length - 3] != 3) {
            throw new IllegalArgumentException("expected a float image tensor [1, 3, H, W] or [3, H, W], got "
                    + tensor.dtype() + " " + Arrays.toString(shape));
        }
        int h = shape[shape.length - 2], w = shape[shape.length - 1], plane = w * h;
        float[] v = tensor.toFloatArray();
        byte[] px = new byte[plane * 3];
        for (int c = 0; c < 3; c++) {
            for (int p = 0; p < plane; p++) {
                float x = v[c * plane + p];
                if (range == Range.MINUS_ONE_ONE) x = x / 2f + 0.5f;
                // clamp as torch.clamp (NaN stays NaN, then becomes 0 like numpy's uint8 cast of NaN here)
                x = Math.min(Math.max(x, 0f), 1f);
                float scaled = x * 255f;
                px[p * 3 + c] = (byte) (Float.isNaN(scaled) ? 0 : (int) Math.rint(scaled));
            }
        }
        return new RgbImage(w, h, px);
    }

    /** [H, W, 3] U8, the layout of {@code numpy.asarray(image)}. */
    public static Tensor toUint8Tensor(RgbImage image) {
        Tensor t = Tensor.empty(DType.U8, image.height(), image.width(), 3);
        MemorySegment.copy(image.pixels(), 0, t.segment(), ValueLayout.JAVA_BYTE, 0, image.pixels().length);
        return t;
    }

    /**
     * An image from an [H, W, 3] U8 tensor, or from an [H, W] U8 grey image (a mask) with the value in all three
     * channels, as Pillow's {@code convert("RGB")} of an "L" image gives.
     */
    public static RgbImage fromUint8Tensor(Tensor tensor) {
        int[] shape = tensor.shape();
        boolean grey = shape.length == 2;
        if (tensor.dtype() != DType.U8 || !(grey || shape.length == 3 && shape[2] == 3)) {
            throw new IllegalArgumentException("expected a U8 tensor [H, W, 3] or [H, W], got " + tensor.dtype() + " "
                    + Arrays.toString(shape));
        }
        Tensor c = tensor.contiguous();
        int plane = shape[0] * shape[1];
        byte[] px = new byte[plane * 3];
        if (grey) {
            byte[] values = new byte[plane];
            MemorySegment.copy(c.segment(), ValueLayout.JAVA_BYTE, c.offset(), values, 0, plane);
            for (int p = 0; p < plane; p++) px[p * 3] = px[p * 3 + 1] = px[p * 3 + 2] = values[p];
        } else {
            MemorySegment.copy(c.segment(), ValueLayout.JAVA_BYTE, c.offset(), px, 0, px.length);
        }
        return new RgbImage(shape[1], shape[0], px);
    }
}
