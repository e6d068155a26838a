package dev.zoetrope.media;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ImageTensorsTest {
    /** One pixel per byte value 0…255 in every channel (channels shifted so they differ). */
    static RgbImage allValues() {
        byte[] px = new byte[256 * 3];
        for (int v = 0; v < 256; v++) {
            px[v * 3] = (byte) v;
            px[v * 3 + 1] = (byte) (255 - v);
            px[v * 3 + 2] = (byte) (v * 7);
        }
        return new RgbImage(16, 16, px);
    }

    @Test
    void floatLayoutAndValuesFollowToTensorAndDiffusersNormalize() {
        try (Scope s = Scope.open()) {
            RgbImage img = allValues();
            Tensor unit = ImageTensors.toTensor(img, ImageTensors.Range.ZERO_ONE);
            Tensor signed = ImageTensors.toTensor(img, ImageTensors.Range.MINUS_ONE_ONE);
            assertArrayEquals(new int[]{1, 3, 16, 16}, unit.shape());
            for (int v = 0; v < 256; v++) {
                int y = v / 16, x = v % 16;
                float x01 = v / 255f;
                assertEquals(x01, unit.getFloat(0, 0, y, x));
                assertEquals((255 - v) / 255f, unit.getFloat(0, 1, y, x));
                assertEquals(2f * x01 - 1f, signed.getFloat(0, 0, y, x));
            }
            assertEquals(-1f, signed.getFloat(0, 0, 0, 0));
            assertEquals(1f, signed.getFloat(0, 0, 15, 15));
            // Both ranges map back to the same bytes.
            assertEquals(img, ImageTensors.toImage(unit, ImageTensors.Range.ZERO_ONE));
            assertEquals(img, ImageTensors.toImage(signed, ImageTensors.Range.MINUS_ONE_ONE));
            assertEquals(img, ImageTensors.toImage(signed.reshape(3, 16, 16), ImageTensors.Range.MINUS_ONE_ONE));
        }
    }

    @Test
    void outputIsClampedAndRoundedHalfToEven() {
        try (Scope s = Scope.open()) {
            // 0.5/255 → 0.5 → 0 (half to even); 1.5/255 → 2; beyond the range clamps.
            float[] v = {0.5f / 255f, 1.5f / 255f, -3f, 7f, 0.5f, Float.NaN};
            float[] planes = new float[18];
            for (int c = 0; c < 3; c++) System.arraycopy(v, 0, planes, c * 6, 6);
            RgbImage img = ImageTensors.toImage(Tensor.of(planes, 1, 3, 1, 6), ImageTensors.Range.ZERO_ONE);
            int[] expected = {0, 2, 0, 255, 128, 0};
            for (int x = 0; x < 6; x++) assertEquals(expected[x], img.get(x, 0, 1), "value " + v[x]);
            assertThrows(IllegalArgumentException.class, () -> ImageTensors.toImage(Tensor.of(new float[8], 1, 2, 2, 2),
                    ImageTensors.Range.ZERO_ONE));
        }
    }

    @Test
    void uint8TensorsAreHwc() {
        try (Scope s = Scope.open()) {
            RgbImage img = allValues();
            Tensor t = ImageTensors.toUint8Tensor(img);
            assertEquals(DType.U8, t.dtype());
            assertArrayEquals(new int[]{16, 16, 3}, t.shape());
            assertEquals(255f, t.getFloat(0, 0, 1));
            assertEquals(img, ImageTensors.fromUint8Tensor(t));

            // an [H, W] grey mask becomes R = G = B, as Pillow's "L" → "RGB"
            Tensor red = t.select(2, 0).contiguous();                                 // [16, 16]
            RgbImage grey = ImageTensors.fromUint8Tensor(red);
            for (int v = 0; v < 256; v++) {
                for (int c = 0; c < 3; c++) assertEquals(v, grey.get(v % 16, v / 16, c));
            }
            assertThrows(IllegalArgumentException.class, () -> ImageTensors.fromUint8Tensor(t.narrow(2, 0, 2)));
        }
    }
}
