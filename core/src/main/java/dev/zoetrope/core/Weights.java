package dev.zoetrope.core;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;

/**
 * Named weights of a checkpoint (one safetensors file or a sharded set). Tensors are zero-copy views of the
 * mapped files and stay valid until {@link #close()}. Models bind weights by their checkpoint names.
 */
public interface Weights extends AutoCloseable {
    /** The names, sorted. */
    Set<String> names();

    /** The header entry, or null if absent. */
    TensorInfo info(String name);

    /** The tensor as stored (dtype and shape from the header); fails naming the file if absent. */
    Tensor get(String name);

    /** Where the checkpoint lives (a file or the index file), for messages. */
    Path source();

    @Override
    void close();

    default boolean has(String name) {
        return info(name) != null;
    }

    /** The tensor, checking its shape; the error names the file, the tensor and both shapes. */
    default Tensor get(String name, int... expectedShape) {
        TensorInfo info = info(name);
        if (info == null) {
            throw new CheckpointException(source() + ": missing tensor '" + name + "' (expected shape "
                    + Arrays.toString(expectedShape) + ")");
        }
        if (!Arrays.equals(info.shape(), expectedShape)) {
            throw new CheckpointException(source() + ": tensor '" + name + "' has shape " + info.shapeString()
                    + ", expected " + Arrays.toString(expectedShape));
        }
        return get(name);
    }

    /** Names starting with {@code prefix}, sorted. */
    default Set<String> namesWithPrefix(String prefix) {
        Set<String> out = new TreeSet<>();
        for (String n : names()) if (n.startsWith(prefix)) out.add(n);
        return out;
    }

    /** A view that prepends {@code prefix} to every lookup (for sub-modules of a combined checkpoint). */
    default Weights prefixed(String prefix) {
        Weights outer = this;
        return new Weights() {
            @Override
            public Set<String> names() {
                Set<String> out = new TreeSet<>();
                for (String n : outer.names()) if (n.startsWith(prefix)) out.add(n.substring(prefix.length()));
                return out;
            }

            @Override
            public TensorInfo info(String name) {
                return outer.info(prefix + name);
            }

            @Override
            public Tensor get(String name) {
                return outer.get(prefix + name);
            }

            @Override
            public Tensor get(String name, int... expectedShape) {
                return outer.get(prefix + name, expectedShape);   // errors name the full checkpoint key
            }

            @Override
            public Path source() {
                return outer.source();
            }

            @Override
            public void close() {
                outer.close();
            }
        };
    }

    /** Opens a safetensors file, a sharded index ({@code *.safetensors.index.json}), or a directory holding either. */
    static Weights open(Path path) {
        return SafeTensors.openAny(path);
    }
}
