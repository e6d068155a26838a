package dev.zoetrope.core.cpu;

import dev.zoetrope.core.Storage;
import dev.zoetrope.core.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.lang.ref.WeakReference;
import java.util.function.Function;

/**
 * Forms of constant weights that kernels derive once and reuse on every call (Winograd-transformed filters). Only
 * weights in read-only memory are cached — memory-mapped checkpoints — since nothing can change them behind the
 * cache's back; anything else is derived per call. Entries are keyed by the weight's storage, offset, dtype, shape,
 * strides and the kind of derived form, and hold their own off-heap memory, freed when the cache next admits
 * something after the weight's memory was closed (a model's checkpoint closed) or its storage collected.
 *
 * <p>The cache holds at most {@link #BUDGET} bytes ({@code -Dzoetrope.weightCache=<bytes>}, default a quarter of
 * the physical memory, 0 disables it). When a new entry does not fit it is not cached (the caller derives the form
 * per call): nothing live is evicted, so a model larger than the budget keeps its first layers cached instead of
 * thrashing.
 */
final class WeightCache {
    private WeightCache() {
    }

    static final long BUDGET = budget();

    private static long budget() {
        Long configured = Long.getLong("zoetrope.weightCache");
        if (configured != null) return Math.max(0, configured);
        try {
            var os = ManagementFactory.getOperatingSystemMXBean();
            if (os instanceof com.sun.management.OperatingSystemMXBean sun) return sun.getTotalMemorySize() / 4;
        } catch (RuntimeException | LinkageError e) {
            // no management support: fall through
        }
        return 2L << 30;
    }

    private record Key(long offset, String dtype, List<Integer> shape, List<Long> strides, String kind) {
    }

    /** A cached form and the memory it lives in. */
    private record Entry(Object value, Arena arena, long bytes) {
    }

    /** The forms derived from one storage; the reference clears when the storage is collected. */
    private static final class Slot extends WeakReference<Storage> {
        final Map<Key, Entry> forms = new HashMap<>();

        Slot(Storage storage) {
            super(storage);
        }
    }

    private static final Map<Storage, Slot> SLOTS = new WeakHashMap<>();   // lookup
    private static final List<Slot> ALL = new ArrayList<>();               // every slot, to free the dead ones
    private static long used;

    /** Whether {@code weight} may be cached: its memory is read-only. */
    static boolean cacheable(Tensor weight) {
        return BUDGET > 0 && weight.segment().isReadOnly();
    }

    /** The cached form of {@code weight} of this kind, or null. */
    static synchronized <T> T get(Tensor weight, String kind, Class<T> type) {
        if (!cacheable(weight)) return null;
        Slot slot = SLOTS.get(weight.storage());
        Entry e = slot == null ? null : slot.forms.get(key(weight, kind));
        return e == null ? null : type.cast(e.value());
    }

    /**
     * Derives and caches the form of {@code weight} of this kind in {@code bytes} of memory the cache allocates and
     * owns ({@code derive} fills it and returns the form); null, deriving nothing, when the weight is not cacheable
     * or the form does not fit the budget. The cache's lock is held while deriving, so a form is derived once.
     */
    static synchronized <T> T admit(Tensor weight, String kind, Class<T> type, long bytes, Function<MemorySegment, T> derive) {
        if (!cacheable(weight)) return null;
        purge();
        Slot slot = SLOTS.computeIfAbsent(weight.storage(), s -> {
            Slot fresh = new Slot(s);
            ALL.add(fresh);
            return fresh;
        });
        Key key = key(weight, kind);
        Entry present = slot.forms.get(key);
        if (present != null) return type.cast(present.value());
        if (used + bytes > BUDGET) return null;
        Arena arena = Arena.ofShared();
        try {
            T value = derive.apply(arena.allocate(bytes, 64));
            slot.forms.put(key, new Entry(value, arena, bytes));
            used += bytes;
            return value;
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /** Frees the entries of weights that were collected or whose memory was closed; recounts the live ones. */
    private static void purge() {
        long total = 0;
        for (Iterator<Slot> it = ALL.iterator(); it.hasNext(); ) {
            Slot slot = it.next();
            Storage storage = slot.get();
            if (storage != null && alive(storage)) {
                for (Entry entry : slot.forms.values()) total += entry.bytes();
            } else {
                for (Entry entry : slot.forms.values()) entry.arena().close();
                slot.forms.clear();
                if (storage != null) SLOTS.remove(storage);
                it.remove();
            }
        }
        used = total;
    }

    private static boolean alive(Storage s) {
        try {
            return s.segment().scope().isAlive();
        } catch (IllegalStateException released) {
            return false;
        }
    }

    /** Bytes held by the entries of live weights (dead ones are freed first). */
    static synchronized long usedBytes() {
        purge();
        return used;
    }

    private static Key key(Tensor t, String kind) {
        return new Key(t.offset(), t.dtype().name(), Arrays.stream(t.shape()).boxed().toList(),
                Arrays.stream(t.strides()).boxed().toList(), kind);
    }

}
