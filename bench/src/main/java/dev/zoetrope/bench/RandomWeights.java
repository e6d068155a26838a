package dev.zoetrope.bench;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Parallel;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.TensorInfo;
import dev.zoetrope.core.Weights;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Weights made up on demand: each tensor a model asks for (by name and shape) is created once, in memory, with
 * PyTorch-like initial values so activations stay finite through a deep network — matrices and kernels uniform in
 * ±1/√fan_in (nn.Linear / nn.Conv2d's default bound), norm scales 1, biases small. So a model built from a real
 * config.json has exactly the real architecture and parameter count without a checkpoint file. Every name
 * "exists" (optional weights such as conv biases are created when asked for). Tensors are allocated in the scope
 * that is current when the model asks for them: build the model inside a scope that outlives it.
 */
final class RandomWeights implements Weights {
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();
    private final DType dtype;
    private final String label;
    private long seed = 1;

    /** @param dtype F32, or F16/BF16 to keep the weights half-size as half-precision checkpoints do */
    RandomWeights(String label, DType dtype) {
        this.label = label;
        this.dtype = dtype;
    }

    long parameters() {
        long n = 0;
        for (Tensor t : tensors.values()) n += t.numel();
        return n;
    }

    long bytes() {
        return parameters() * dtype.byteSize();
    }

    @Override
    public Set<String> names() {
        return new TreeSet<>(tensors.keySet());
    }

    @Override
    public TensorInfo info(String name) {
        Tensor t = tensors.get(name);
        int[] shape = t == null ? new int[0] : t.shape();
        return new TensorInfo(name, dtype.name(), dtype, shape, 0, Tensor.numel(shape) * dtype.byteSize());
    }

    @Override
    public Tensor get(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw new IllegalStateException(label + ": " + name + " was never created with a shape");
        return t;
    }

    @Override
    public Tensor get(String name, int... shape) {
        return tensors.computeIfAbsent(name, n -> create(n, shape));
    }

    private Tensor create(String name, int[] shape) {
        float bound;
        float offset = 0;
        if (shape.length >= 2) {
            long fanIn = Tensor.numel(shape) / shape[0];
            bound = (float) (1 / Math.sqrt(fanIn));
        } else if (name.endsWith("weight")) {      // norm scales
            bound = 0;
            offset = 1;
        } else {                                  // biases, embeddings' small vectors
            bound = 0.02f;
        }
        Tensor f32 = Tensor.empty(DType.F32, shape);
        fill(f32.segment(), f32.numel(), seed++, bound, offset);
        if (dtype == DType.F32) return f32;
        Tensor half = f32.to(dtype);
        f32.close();
        return half;
    }

    /** Uniform values in offset ± bound from a counter-based hash, filled in parallel (same values for any thread count). */
    private static void fill(MemorySegment s, long n, long seed, float bound, float offset) {
        Parallel.forRange(n, 1 << 16, (from, to) -> {
            for (long i = from; i < to; i++) {
                long z = (seed << 40) + i;
                z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
                z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
                z ^= z >>> 33;
                float u = (z >>> 40) / (float) (1 << 24) * 2 - 1;
                s.setAtIndex(ValueLayout.JAVA_FLOAT, i, offset + bound * u);
            }
        });
    }

    @Override
    public Path source() {
        return Path.of(label + " (random weights in memory)");
    }

    @Override
    public void close() {
        tensors.clear();
    }
}
