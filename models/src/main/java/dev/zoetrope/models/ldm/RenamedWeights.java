package dev.zoetrope.models.ldm;

import dev.zoetrope.core.CheckpointException;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.TensorInfo;
import dev.zoetrope.core.Weights;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A view of a checkpoint under other names: each diffusers name maps to a stored tensor, possibly reshaped
 * (LDM stores the VAE attention projections as 1×1 convolutions), cut (OpenCLIP stores q, k and v as one
 * in_proj) or transposed. Tensors stay zero-copy views of the mapped file; the base weights are owned by
 * whoever opened them.
 */
final class RenamedWeights implements Weights {
    /** How a stored tensor becomes the diffusers tensor. */
    enum Kind { SAME, SQUEEZE_TO_2D, ROWS, TRANSPOSE }

    /** @param start first row for ROWS; @param count rows for ROWS */
    record Source(String name, Kind kind, int start, int count) {
        static Source same(String name) {
            return new Source(name, Kind.SAME, 0, 0);
        }

        static Source squeezed(String name) {
            return new Source(name, Kind.SQUEEZE_TO_2D, 0, 0);
        }

        static Source rows(String name, int start, int count) {
            return new Source(name, Kind.ROWS, start, count);
        }
    }

    private final Weights base;
    private final Map<String, Source> sources;

    RenamedWeights(Weights base, Map<String, Source> sources) {
        this.base = base;
        this.sources = Collections.unmodifiableMap(new TreeMap<>(sources));
    }

    /** The stored name a diffusers name reads from, or null. */
    String storedName(String name) {
        Source s = sources.get(name);
        return s == null ? null : s.name();
    }

    @Override
    public Set<String> names() {
        return new TreeSet<>(sources.keySet());
    }

    @Override
    public TensorInfo info(String name) {
        Source s = sources.get(name);
        if (s == null) return null;
        TensorInfo i = base.info(s.name());
        if (i == null) return null;
        int[] shape = i.shape();
        long begin = i.begin(), end = i.end();
        switch (s.kind()) {
            case SAME -> { }
            case SQUEEZE_TO_2D -> shape = squeezedShape(shape, s.name());
            case ROWS -> {
                long rowBytes = shape[0] == 0 ? 0 : i.byteLength() / shape[0];
                shape = shape.clone();
                shape[0] = s.count();
                begin += rowBytes * s.start();
                end = begin + rowBytes * s.count();
            }
            case TRANSPOSE -> shape = new int[] {shape[1], shape[0]};
        }
        return new TensorInfo(name, i.dtypeName(), i.dtype(), shape, begin, end);
    }

    @Override
    public Tensor get(String name) {
        Source s = sources.get(name);
        if (s == null) throw new CheckpointException(base.source() + ": missing tensor '" + name + "'");
        Tensor t = base.get(s.name());
        return switch (s.kind()) {
            case SAME -> t;
            case SQUEEZE_TO_2D -> t.reshape(squeezedShape(t.shape(), s.name()));
            case ROWS -> {
                if (t.dim(0) < s.start() + s.count()) {
                    throw new CheckpointException(base.source() + ": tensor '" + s.name() + "' has "
                            + t.dim(0) + " rows, expected at least " + (s.start() + s.count()));
                }
                yield t.narrow(0, s.start(), s.count());
            }
            case TRANSPOSE -> t.transpose(0, 1);
        };
    }

    private int[] squeezedShape(int[] shape, String stored) {
        for (int d = 2; d < shape.length; d++) {
            if (shape[d] != 1) {
                throw new CheckpointException(base.source() + ": tensor '" + stored + "' has shape "
                        + Arrays.toString(shape) + ", expected a 1×1 convolution weight [out, in, 1, 1]");
            }
        }
        return shape.length >= 2 ? new int[] {shape[0], shape[1]} : shape;
    }

    @Override
    public Path source() {
        return base.source();
    }

    /** The base weights belong to the {@link LdmCheckpoint}; closing a view does nothing. */
    @Override
    public void close() {
    }
}
