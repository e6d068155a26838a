package dev.zoetrope.core;

import java.util.Arrays;

/**
 * One header entry of a safetensors file. {@code dtype} is null when the format's dtype
 * ({@code dtypeName}) is not one Zoetrope computes with; the entry is still listed and validated.
 * {@code begin}/{@code end} are byte offsets into the data area.
 */
public record TensorInfo(String name, String dtypeName, DType dtype, int[] shape, long begin, long end) {
    public long numel() {
        return Tensor.numel(shape);
    }

    public long byteLength() {
        return end - begin;
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtypeName.equals(t.dtypeName)
                && Arrays.equals(shape, t.shape) && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtypeName + " " + shapeString();
    }
}
