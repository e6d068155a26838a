package dev.zoetrope.models.llm;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Storage;
import dev.zoetrope.core.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Keys and values of every decoder layer for the positions already processed, so a prompt is encoded once
 * (prefill) and each new token costs one position (decode). Per layer: keys/values [B, Hk, capacity, D]; the
 * first {@link #length()} positions are filled. Beside them the cache keeps, per row and position, whether
 * the position is a real token (false = left padding, masked out for every query) and the next rotary
 * position of each row (transformers' {@code cumsum(attention_mask) - 1}), so left-padded batches and
 * multi-round reuse ({@link #truncate}) need no bookkeeping by the caller.
 *
 * <p>The cache owns its memory (off-heap, outside any {@link dev.zoetrope.core.Scope}) because it outlives
 * the per-step scopes and may be kept between chat rounds; it grows on demand and is freed by
 * {@link #close()}.
 */
public final class KvCache implements AutoCloseable {
    private final int batch;
    private final int layers;
    private final int kvHeads;
    private final int headDim;
    private Tensor[] keys;            // per layer [B, Hk, capacity, D]
    private Tensor[] values;          // per layer [B, Hk, capacity, D]
    private boolean[][] real;         // [B][capacity]: a real token (true) or padding
    private int capacity;
    private int length;
    private Arena arena;              // holds the current keys/values; replaced when the cache grows
    private boolean closed;

    private KvCache(int batch, int layers, int kvHeads, int headDim) {
        this.batch = batch;
        this.layers = layers;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.keys = new Tensor[layers];
        this.values = new Tensor[layers];
        this.real = new boolean[batch][0];
    }

    /** An empty cache for {@code batch} rows with room for {@code capacity} positions (grows when needed). */
    public static KvCache allocate(int batch, int layers, int kvHeads, int headDim, int capacity) {
        if (batch < 1 || layers < 1 || kvHeads < 1 || headDim < 1) {
            throw new IllegalArgumentException("KV cache needs positive sizes, got batch " + batch + ", layers " + layers
                    + ", kv heads " + kvHeads + ", head dim " + headDim);
        }
        KvCache cache = new KvCache(batch, layers, kvHeads, headDim);
        cache.ensureCapacity(capacity);
        return cache;
    }

    public int batch() {
        return batch;
    }

    public int length() {
        return length;
    }

    public int capacity() {
        return capacity;
    }

    /** Makes room for {@code needed} positions in total (at least 1.5× the old capacity when it grows). */
    public void ensureCapacity(int needed) {
        checkOpen();
        if (needed <= capacity) return;
        int newCapacity = Math.max(needed, capacity + capacity / 2);
        long bytes = (long) batch * kvHeads * newCapacity * headDim * Float.BYTES;
        Arena newArena = Arena.ofShared();
        try {
            for (int l = 0; l < layers; l++) {
                Tensor k = buffer(newArena, bytes, newCapacity, "keys of layer " + l);
                Tensor v = buffer(newArena, bytes, newCapacity, "values of layer " + l);
                if (length > 0) {
                    k.narrow(2, 0, length).copyFrom(keys[l].narrow(2, 0, length));
                    v.narrow(2, 0, length).copyFrom(values[l].narrow(2, 0, length));
                }
                keys[l] = k;
                values[l] = v;
            }
        } catch (RuntimeException | OutOfMemoryError e) {
            newArena.close();
            throw e;
        }
        if (arena != null) arena.close();
        arena = newArena;
        for (int b = 0; b < batch; b++) real[b] = Arrays.copyOf(real[b], newCapacity);
        capacity = newCapacity;
    }

    private Tensor buffer(Arena owner, long bytes, int cap, String what) {
        MemorySegment segment = owner.allocate(bytes, 64);
        return Tensor.wrap(Storage.borrowed(segment, "KV cache " + what), DType.F32,
                new int[] {batch, kvHeads, cap, headDim}, 0);
    }

    /** Frees the cache's memory; any later use fails. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (arena != null) arena.close();
        arena = null;
        length = 0;
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("KV cache used after close()");
    }

    /** Forgets every position from {@code newLength} on (to reuse a common prompt prefix in the next round). */
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("cannot truncate a KV cache of length " + length + " to " + newLength);
        }
        for (boolean[] row : real) Arrays.fill(row, newLength, capacity, false);
        length = newLength;
    }

    /** Rotary position the next real token of row {@code b} gets: the number of real tokens so far. */
    public long nextPosition(int b) {
        long n = 0;
        for (int i = 0; i < length; i++) if (real[b][i]) n++;
        return n;
    }

    /** Whether position {@code i} of row {@code b} holds a real token. */
    public boolean isReal(int b, int i) {
        if (i < 0 || i >= length) throw new IndexOutOfBoundsException("position " + i + " outside cache length " + length);
        return real[b][i];
    }

    /** True when some cached or pending position is padding, i.e. attention needs a key mask. */
    boolean hasPadding(int upTo) {
        for (boolean[] row : real) for (int i = 0; i < upTo; i++) if (!row[i]) return true;
        return false;
    }

    /**
     * Reserves positions [length, length + count) for the next forward pass and records which are real
     * tokens ({@code realTokens} [B][count], null = all real). Returns the start position.
     */
    public int reserve(int count, boolean[][] realTokens) {
        ensureCapacity(length + count);
        if (realTokens != null && realTokens.length != batch) {
            throw new IllegalArgumentException("padding flags for " + realTokens.length + " rows, cache has " + batch);
        }
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < count; t++) {
                boolean r = realTokens == null || realTokens[b][t];
                real[b][length + t] = r;
            }
        }
        return length;
    }

    /** Marks the reserved positions as filled once every layer has written them. */
    public void commit(int count) {
        if (length + count > capacity) throw new IllegalStateException("commit past the reserved positions");
        length += count;
    }

    /** Writes this layer's keys/values [B, Hk, T, D] at positions [start, start + T). */
    public void write(int layer, int start, Tensor k, Tensor v) {
        checkOpen();
        int t = k.dim(2);
        keys[layer].narrow(2, start, t).copyFrom(k);
        values[layer].narrow(2, start, t).copyFrom(v);
    }

    /** Views of this layer's keys and values for positions [0, end): [B, Hk, end, D]. */
    public Tensor keys(int layer, int end) {
        checkOpen();
        return keys[layer].narrow(2, 0, end);
    }

    public Tensor values(int layer, int end) {
        return values[layer].narrow(2, 0, end);
    }

    /**
     * Additive key mask [B, 1, 1, end] (0 for real tokens, the float32 minimum for padding, as transformers'
     * eager attention uses), or null when no position up to {@code end} is padding.
     */
    public Tensor keyMask(int end) {
        if (!hasPadding(end)) return null;
        float[] mask = new float[batch * end];
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < end; i++) mask[b * end + i] = real[b][i] ? 0f : -Float.MAX_VALUE;
        }
        return Tensor.of(mask, batch, 1, 1, end);
    }
}
