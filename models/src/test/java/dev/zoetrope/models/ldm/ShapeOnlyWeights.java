package dev.zoetrope.models.ldm;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.TensorInfo;
import dev.zoetrope.core.Weights;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** A checkpoint header without data: enough to test name mapping and config inference at real model sizes. */
final class ShapeOnlyWeights implements Weights {
    private final Map<String, int[]> shapes;

    ShapeOnlyWeights(Map<String, int[]> shapes) {
        this.shapes = shapes;
    }

    @Override
    public Set<String> names() {
        return new TreeSet<>(shapes.keySet());
    }

    @Override
    public TensorInfo info(String name) {
        int[] s = shapes.get(name);
        return s == null ? null : new TensorInfo(name, "F32", DType.F32, s, 0, Tensor.numel(s) * 4);
    }

    @Override
    public Tensor get(String name) {
        throw new UnsupportedOperationException("header only: " + name);
    }

    @Override
    public Path source() {
        return Path.of("header-only.safetensors");
    }

    @Override
    public void close() {
    }
}
