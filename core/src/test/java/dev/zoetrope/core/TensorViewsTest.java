package dev.zoetrope.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Views share storage and address the right elements; copies happen only where documented. */
class TensorViewsTest {
    private Scope scope;

    @BeforeEach
    void open() {
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    /** 0, 1, 2, ... in the given shape. */
    private static Tensor iota(int... shape) {
        float[] v = new float[(int) Tensor.numel(shape)];
        for (int i = 0; i < v.length; i++) v[i] = i;
        return Tensor.of(v, shape);
    }

    @Test
    void permuteAndTranspose() {
        Tensor x = iota(2, 3, 4);
        Tensor p = x.permute(2, 0, 1);
        assertArrayEquals(new int[] {4, 2, 3}, p.shape());
        assertSame(x.storage(), p.storage());
        assertFalse(p.isContiguous());
        for (int a = 0; a < 2; a++) for (int b = 0; b < 3; b++) for (int c = 0; c < 4; c++) {
            assertEquals(x.getFloat(a, b, c), p.getFloat(c, a, b));
        }
        Tensor t = x.transpose(-1, 0);
        assertArrayEquals(new int[] {4, 3, 2}, t.shape());
        assertEquals(x.getFloat(1, 2, 3), t.getFloat(3, 2, 1));
        assertThrows(IllegalArgumentException.class, () -> x.permute(0, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> x.permute(0, 1));
    }

    @Test
    void sliceNarrowSelect() {
        Tensor x = iota(4, 5);
        Tensor s = x.slice(1, 1, -1); // columns 1..3
        assertArrayEquals(new int[] {4, 3}, s.shape());
        assertEquals(6f, s.getFloat(1, 0));
        assertEquals(x.getFloat(3, 3), s.getFloat(3, 2));
        Tensor n = x.narrow(0, 2, 2);
        assertEquals(10f, n.getFloat(0, 0));
        Tensor row = x.select(0, -1);
        assertArrayEquals(new int[] {5}, row.shape());
        assertEquals(15f, row.getFloat(0));
        Tensor col = x.select(1, 2);
        assertArrayEquals(new float[] {2, 7, 12, 17}, col.toFloatArray());
        assertThrows(IllegalArgumentException.class, () -> x.slice(1, 3, 2));
        assertThrows(IndexOutOfBoundsException.class, () -> x.select(0, 4));
        // writes through a view land in the base tensor
        s.setFloat(-1f, 0, 0);
        assertEquals(-1f, x.getFloat(0, 1));
    }

    @Test
    void unsqueezeSqueezeExpand() {
        Tensor x = iota(3);
        Tensor u = x.unsqueeze(0).unsqueeze(-1);
        assertArrayEquals(new int[] {1, 3, 1}, u.shape());
        assertArrayEquals(new int[] {3, 1}, u.squeeze(0).shape());
        assertThrows(IllegalArgumentException.class, () -> u.squeeze(1));
        Tensor e = x.unsqueeze(1).expand(3, 4);
        assertArrayEquals(new int[] {3, 4}, e.shape());
        assertEquals(0, e.stride(1));
        assertArrayEquals(new float[] {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2}, e.toFloatArray());
        Tensor lead = x.expand(2, -1);
        assertArrayEquals(new float[] {0, 1, 2, 0, 1, 2}, lead.toFloatArray());
        assertThrows(IllegalArgumentException.class, () -> x.expand(4));
        Tensor c = e.contiguous();
        assertTrue(c.isContiguous());
        assertNotSame(e.storage(), c.storage());
        assertArrayEquals(e.toFloatArray(), c.toFloatArray());
    }

    @Test
    void reshapeViewsWhenStridesAllow() {
        Tensor x = iota(2, 3, 4);
        Tensor r = x.reshape(6, -1);
        assertSame(x.storage(), r.storage());
        assertArrayEquals(new int[] {6, 4}, r.shape());
        // splitting the last dim of a column slice is still a view (torch.reshape does the same)
        Tensor cols = iota(3, 8).slice(1, 2, 6);
        Tensor split = cols.reshape(3, 2, 2);
        assertSame(cols.storage(), split.storage());
        assertArrayEquals(cols.toFloatArray(), split.toFloatArray());
        // merging dims that are not adjacent in memory must copy, with the right values
        Tensor t = x.transpose(0, 1); // [3, 2, 4]
        Tensor merged = t.reshape(6, 4);
        assertNotSame(x.storage(), merged.storage());
        assertArrayEquals(t.contiguous().toFloatArray(), merged.toFloatArray());
        // size-1 dims anywhere and a permuted tensor whose grouped dims stay contiguous
        Tensor p = iota(2, 1, 3, 4).permute(0, 2, 1, 3).reshape(2, 12);
        assertArrayEquals(iota(2, 12).toFloatArray(), p.toFloatArray());
        Tensor hw = iota(2, 3, 4).permute(1, 0, 2).reshape(3, 2, 2, 2); // split the contiguous last dim
        assertArrayEquals(iota(2, 3, 4).permute(1, 0, 2).contiguous().toFloatArray(), hw.toFloatArray());
        assertThrows(IllegalArgumentException.class, () -> x.reshape(5, -1));
        assertThrows(IllegalArgumentException.class, () -> x.reshape(-1, -1));
        assertArrayEquals(new int[] {0, 3}, Tensor.empty(DType.F32, 0, 6).reshape(-1, 3).shape());
    }

    @Test
    void dtypeConversions() {
        Tensor x = Tensor.of(new float[] {1.5f, -2.25f, 3.1415927f, 65504f, 1e-8f}, 5);
        assertSame(x, x.to(DType.F32));
        Tensor h = x.to(DType.F16);
        assertEquals(DType.F16, h.dtype());
        assertEquals(Float.float16ToFloat(Float.floatToFloat16(3.1415927f)), h.getFloat(2));
        assertEquals(65504f, h.getFloat(3));
        Tensor b = x.to(DType.BF16);
        assertEquals(DType.bf16ToFloat(DType.floatToBf16(3.1415927f)), b.getFloat(2));
        assertEquals(1.5f, b.getFloat(0));
        Tensor i = Tensor.of(new float[] {3.7f, -2.2f}, 2).to(DType.I64);
        assertArrayEquals(new long[] {3, -2}, i.toLongArray());
        Tensor back = Tensor.ofLongs(new long[] {7, -9}, 2).to(DType.F32);
        assertArrayEquals(new float[] {7, -9}, back.toFloatArray());
        // strided source converted element by element
        Tensor m = iota(3, 4).transpose(0, 1).to(DType.BF16);
        assertArrayEquals(iota(3, 4).transpose(0, 1).toFloatArray(), m.toFloatArray());
        assertTrue(Float.isNaN(Tensor.of(new float[] {Float.NaN}, 1).to(DType.BF16).getFloat(0)), "NaN stays NaN in bf16");
    }

    @Test
    void copyFromAnyLayout() {
        Tensor dst = Tensor.zeros(DType.F32, 3, 4);
        dst.copyFrom(iota(4, 3).transpose(0, 1));
        assertArrayEquals(iota(4, 3).transpose(0, 1).toFloatArray(), dst.toFloatArray());
        Tensor window = Tensor.zeros(DType.F32, 5, 5);
        window.narrow(0, 1, 3).narrow(1, 1, 3).copyFrom(iota(3, 3));
        assertEquals(0f, window.getFloat(0, 0));
        assertEquals(4f, window.getFloat(2, 2));
        assertEquals(0f, window.getFloat(4, 4));
        assertThrows(IllegalArgumentException.class, () -> dst.copyFrom(iota(4, 3)));
    }

    @Test
    void fullAndZeros() {
        Tensor f = Tensor.full(2.5f, 3, 1000);
        float[] v = f.toFloatArray();
        for (float x : v) assertEquals(2.5f, x);
        Tensor z = Tensor.zeros(DType.BF16, 7);
        for (float x : z.toFloatArray()) assertEquals(0f, x);
        assertEquals(0, Tensor.full(1f, 0, 4).numel());
    }
}
