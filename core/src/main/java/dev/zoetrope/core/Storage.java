package dev.zoetrope.core;

import java.lang.foreign.MemorySegment;

/**
 * A block of off-heap memory that tensors view. Either a pooled activation buffer (returned to its
 * {@link BufferPool} when its {@link Scope} closes) or a borrowed region such as a memory-mapped
 * checkpoint (released by its owner). Kernels call {@link #segment()} which fails fast on released memory,
 * so a tensor used after its scope closed raises an error instead of reading recycled data.
 */
public final class Storage {
    private final MemorySegment segment;
    private final BufferPool pool;
    private final String origin;
    private volatile boolean released;

    Storage(MemorySegment segment, BufferPool pool, String origin) {
        this.segment = segment;
        this.pool = pool;
        this.origin = origin;
    }

    /** Wraps memory owned elsewhere (a mapped file, a caller's arena); never released by Zoetrope. */
    public static Storage borrowed(MemorySegment segment, String origin) {
        return new Storage(segment, null, origin);
    }

    public MemorySegment segment() {
        if (released) {
            throw new IllegalStateException("tensor memory used after its scope was closed (" + origin + ")");
        }
        return segment;
    }

    public long byteSize() {
        return segment.byteSize();
    }

    public boolean isReleased() {
        return released;
    }

    public String origin() {
        return origin;
    }

    /** Returns pooled memory to its pool; a no-op for borrowed memory and for a second call. */
    void release() {
        if (released) return;
        released = true;
        if (pool != null) pool.giveBack(segment);
    }

    boolean isPooled() {
        return pool != null;
    }
}
