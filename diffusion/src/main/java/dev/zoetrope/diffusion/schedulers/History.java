package dev.zoetrope.diffusion.schedulers;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Storage;
import dev.zoetrope.core.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Scheduler-owned memory for the tensors a multistep method keeps between steps (past model outputs,
 * derivatives, the PRK/PLMS sample). The caller's step scopes close after every step, so what must survive is
 * copied here; released slots are reused, so a long loop needs only as many buffers as the method's history is
 * deep.
 */
final class History implements AutoCloseable {
    /** Created on first use; shared because the kernels read it from the worker threads. */
    private Arena arena;
    private final Map<Long, ArrayDeque<MemorySegment>> free = new HashMap<>();
    private final Map<Tensor, MemorySegment> held = new IdentityHashMap<>();
    private boolean closed;

    /** A scheduler-owned float32 copy of {@code t}. */
    Tensor keep(Tensor t) {
        if (closed) throw new IllegalStateException("scheduler is closed");
        long bytes = Math.max(1, t.numel()) * DType.F32.byteSize();
        ArrayDeque<MemorySegment> queue = free.get(bytes);
        MemorySegment segment = queue == null ? null : queue.pollLast();
        if (segment == null) {
            if (arena == null) arena = Arena.ofShared();
            segment = arena.allocate(bytes, 64);
        }
        Tensor copy = Tensor.wrap(Storage.borrowed(segment, "scheduler history " + Arrays.toString(t.shape())),
                DType.F32, t.shape(), 0);
        copy.copyFrom(t);
        held.put(copy, segment);
        return copy;
    }

    /** Gives a tensor obtained from {@link #keep} back for reuse (null is ignored). */
    void release(Tensor t) {
        if (t == null) return;
        MemorySegment segment = held.remove(t);
        if (segment != null) free.computeIfAbsent(segment.byteSize(), k -> new ArrayDeque<>()).addLast(segment);
    }

    /** Releases every held tensor for reuse. */
    void clear() {
        for (MemorySegment segment : held.values()) {
            free.computeIfAbsent(segment.byteSize(), k -> new ArrayDeque<>()).addLast(segment);
        }
        held.clear();
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        held.clear();
        free.clear();
        if (arena != null) arena.close();
    }
}
