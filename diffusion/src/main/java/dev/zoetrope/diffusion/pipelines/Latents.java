package dev.zoetrope.diffusion.pipelines;

import dev.zoetrope.core.CheckpointException;
import dev.zoetrope.core.DType;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.Weights;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;

/**
 * Latents held on the heap (float32 values and an NCHW shape), so that requests and results do not depend on a
 * {@link Scope}: initial noise given by the caller (diffusers' {@code latents=}) and the final latents of a run.
 */
public record Latents(int[] shape, float[] values) {
    public Latents {
        shape = shape.clone();
        if (Tensor.numel(shape) != values.length) {
            throw new IllegalArgumentException("latents of shape " + Arrays.toString(shape) + " need " + Tensor.numel(shape)
                    + " values, got " + values.length);
        }
    }

    /** A copy of a tensor's values (any float dtype, any strides). */
    public static Latents of(Tensor t) {
        return new Latents(t.shape(), t.toFloatArray());
    }

    /**
     * The one tensor of a safetensors file (any name, any float dtype), as {@code --init-noise} takes it; an error
     * naming the file when it holds no tensor, several, or a non-float one.
     */
    public static Latents read(Path file) {
        try (Weights w = Weights.open(file); Scope s = Scope.open()) {
            Set<String> names = w.names();
            if (names.size() != 1) {
                String listed = names.stream().limit(3).collect(java.util.stream.Collectors.joining(", "))
                        + (names.size() > 3 ? ", …" : "");
                throw new CheckpointException(file + ": expected exactly one tensor (the initial latents), found "
                        + names.size() + (names.isEmpty() ? "" : " (" + listed + ")"));
            }
            String name = names.iterator().next();
            Tensor t = w.get(name);
            if (!t.dtype().isFloatingPoint()) {
                throw new CheckpointException(file + ": tensor '" + name + "' is " + t.dtype() + ", expected a float tensor");
            }
            return of(t);
        }
    }

    public int[] shape() {
        return shape.clone();
    }

    /** A new F32 tensor in the current scope. */
    public Tensor toTensor() {
        return Tensor.of(values.clone(), shape.clone());
    }

    /** Whether the shape is exactly {@code expected}. */
    boolean hasShape(int... expected) {
        return Arrays.equals(shape, expected);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Latents l && Arrays.equals(shape, l.shape) && Arrays.equals(values, l.values);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(shape) + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return "Latents" + Arrays.toString(shape) + " " + DType.F32;
    }
}
