package dev.zoetrope.core;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Recycles activation buffers by size class so that a diffusion loop or a decode loop allocates nothing
 * after its first step. Size classes are multiples of 4 KiB below 64 KiB and otherwise four steps per
 * power of two (≤ 25% waste). {@link #trim()} frees what is cached.
 */
public final class BufferPool {
    public static final BufferPool SHARED = new BufferPool();
    private static final long ALIGNMENT = 64;

    private final Map<Long, ArrayDeque<MemorySegment>> free = new HashMap<>();
    private final Map<Long, Pooled> pooled = new HashMap<>(); // by segment address

    private record Pooled(MemorySegment segment, Arena arena) {
    }
    private long liveBytes;
    private long cachedBytes;
    private long peakBytes;

    public static long sizeClass(long bytes) {
        if (bytes <= 0) return 64;
        if (bytes <= 65536) return (bytes + 4095) & ~4095L;
        int shift = 63 - Long.numberOfLeadingZeros(bytes) - 2; // quarter of the power of two below
        long step = 1L << shift;
        return (bytes + step - 1) / step * step;
    }

    synchronized MemorySegment take(long bytes) {
        long size = sizeClass(bytes);
        ArrayDeque<MemorySegment> queue = free.get(size);
        MemorySegment segment = queue == null ? null : queue.pollLast();
        if (segment != null) {
            cachedBytes -= size;
        } else {
            Arena arena = Arena.ofShared();
            try {
                segment = arena.allocate(size, ALIGNMENT);
            } catch (OutOfMemoryError e) {
                arena.close();
                trimLocked();
                arena = Arena.ofShared();
                try {
                    segment = arena.allocate(size, ALIGNMENT);
                } catch (OutOfMemoryError again) {
                    arena.close();
                    throw new OutOfMemoryError("cannot allocate " + size + " bytes of tensor memory ("
                            + liveBytes + " bytes in use)");
                }
            }
            pooled.put(segment.address(), new Pooled(segment, arena));
        }
        liveBytes += size;
        peakBytes = Math.max(peakBytes, liveBytes);
        return segment.asSlice(0, bytes);
    }

    synchronized void giveBack(MemorySegment slice) {
        long size = sizeClass(slice.byteSize());
        liveBytes -= size;
        Pooled entry = pooled.get(slice.address());
        if (entry == null) return;
        free.computeIfAbsent(size, k -> new ArrayDeque<>()).addLast(entry.segment());
        cachedBytes += size;
    }

    /** Frees every cached (unused) buffer. */
    public synchronized void trim() {
        trimLocked();
    }

    private void trimLocked() {
        for (ArrayDeque<MemorySegment> queue : free.values()) {
            for (MemorySegment s : queue) {
                Pooled entry = pooled.remove(s.address());
                if (entry != null) entry.arena().close();
            }
        }
        free.clear();
        cachedBytes = 0;
    }

    public synchronized long liveBytes() {
        return liveBytes;
    }

    public synchronized long cachedBytes() {
        return cachedBytes;
    }

    public synchronized long peakBytes() {
        return peakBytes;
    }

    public synchronized void resetPeak() {
        peakBytes = liveBytes;
    }
}
