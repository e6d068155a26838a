package dev.zoetrope.core;

import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Weights held in memory under checkpoint names, for models built from tensors made in code (synthetic models in
 * tests and benchmarks, converted weights). The tensors belong to the scope that allocated them; {@link #close()}
 * releases nothing.
 */
public final class InMemoryWeights implements Weights {
    private final Map<String, Tensor> tensors = new TreeMap<>();
    private final Path source;

    /** @param label what the weights are, shown in messages in place of a file name */
    public InMemoryWeights(String label) {
        this.source = Path.of("(" + label + ")");
    }

    /** Adds or replaces a tensor. */
    public InMemoryWeights put(String name, Tensor tensor) {
        tensors.put(name, tensor);
        return this;
    }

    @Override
    public Set<String> names() {
        return Collections.unmodifiableSet(tensors.keySet());
    }

    @Override
    public TensorInfo info(String name) {
        Tensor t = tensors.get(name);
        if (t == null) return null;
        return new TensorInfo(name, t.dtype().name(), t.dtype(), t.shape(), 0, t.numel() * t.dtype().byteSize());
    }

    @Override
    public Tensor get(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw new CheckpointException(source + ": missing tensor '" + name + "'");
        return t;
    }

    @Override
    public Path source() {
        return source;
    }

    @Override
    public void close() {
    }
}
