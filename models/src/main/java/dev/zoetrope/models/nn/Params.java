package dev.zoetrope.models.nn;

import dev.zoetrope.core.CheckpointException;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.TensorInfo;
import dev.zoetrope.core.Weights;

/**
 * A position in a checkpoint's name tree ({@code down_blocks.1.attentions.0.}) used while binding weights.
 * Lookups use the full checkpoint name, so a missing or mis-shaped tensor is reported with the file and the
 * exact name a user can grep for in the header.
 */
public final class Params {
    private final Weights weights;
    private final String prefix;

    private Params(Weights weights, String prefix) {
        this.weights = weights;
        this.prefix = prefix;
    }

    public static Params of(Weights weights) {
        return new Params(weights, "");
    }

    /** The sub-module {@code name} (e.g. {@code "resnets"}, then {@code child(0)}). */
    public Params child(String name) {
        return new Params(weights, prefix + name + ".");
    }

    public Params child(int index) {
        return child(Integer.toString(index));
    }

    public Params child(String name, int index) {
        return child(name).child(index);
    }

    /** The full checkpoint name of {@code name} below this position. */
    public String path(String name) {
        return prefix + name;
    }

    public String prefix() {
        return prefix;
    }

    public Weights weights() {
        return weights;
    }

    public boolean has(String name) {
        return weights.has(prefix + name);
    }

    /** True when any tensor lives below {@code name} (a sub-module that exists in this checkpoint). */
    public boolean hasModule(String name) {
        String p = prefix + name + ".";
        for (String n : weights.names()) if (n.startsWith(p)) return true;
        return false;
    }

    /** The tensor {@code name}, which must have exactly the given shape (the error names file, tensor and shapes). */
    public Tensor get(String name, int... shape) {
        Tensor t = weights.get(prefix + name, shape);
        if (!t.dtype().isFloatingPoint()) throw error(name, "has dtype " + t.dtype() + ", expected a floating-point weight");
        return t;
    }

    /** The tensor if present (shape checked), otherwise null. */
    public Tensor optional(String name, int... shape) {
        return has(name) ? get(name, shape) : null;
    }

    /** The stored shape of {@code name}; fails naming the file and tensor when it is absent. */
    public int[] shape(String name) {
        TensorInfo info = weights.info(prefix + name);
        if (info == null) throw new CheckpointException(weights.source() + ": missing tensor '" + prefix + name + "'");
        return info.shape();
    }

    /** A failure about {@code name} at this position, naming the file. */
    public CheckpointException error(String name, String problem) {
        return new CheckpointException(weights.source() + ": tensor '" + prefix + name + "' " + problem);
    }

    @Override
    public String toString() {
        return weights.source() + " @ " + (prefix.isEmpty() ? "<root>" : prefix);
    }
}
