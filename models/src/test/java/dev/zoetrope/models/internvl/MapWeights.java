package dev.zoetrope.models.internvl;

import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.TensorInfo;
import dev.zoetrope.core.Weights;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** Weights held in memory (synthetic checkpoints for configurations the fixture does not cover). */
final class MapWeights implements Weights {
    private final Map<String, Tensor> tensors = new TreeMap<>();

    MapWeights put(String name, Tensor t) {
        tensors.put(name, t);
        return this;
    }

    @Override
    public Set<String> names() {
        return tensors.keySet();
    }

    @Override
    public TensorInfo info(String name) {
        Tensor t = tensors.get(name);
        if (t == null) return null;
        long bytes = t.numel() * t.dtype().byteSize();
        return new TensorInfo(name, t.dtype().name(), t.dtype(), t.shape(), 0, bytes);
    }

    @Override
    public Tensor get(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw new IllegalArgumentException("no tensor " + name);
        return t;
    }

    @Override
    public Path source() {
        return Path.of("(in memory)");
    }

    @Override
    public void close() {
    }
}
