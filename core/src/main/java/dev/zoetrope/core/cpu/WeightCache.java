package dev.zoetrope.core.cpu;

import dev.zoetrope.core.Storage;
import dev.zoetrope.core.Tensor;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.function.Supplier;

/**
 * Forms of constant weights that kernels derive once and reuse on every call (Winograd-transformed filters). Only
 * weights in read-only memory are cached — memory-mapped checkpoints — since nothing can change them behind the
 * cache's back; anything else is derived per call. Entries are keyed by the weight's storage (weakly: they go when
 * the model's weights go), offset, dtype, shape and the kind of derived form.
 *
 * <p>The cache holds at most {@link #BUDGET} bytes ({@code -Dzoetrope.weightCache=<bytes>}, default a quarter of
 * the physical memory, 0 disables it). When a new entry does not fit it is not cached (the caller derives the form
 * per call): nothing is evicted, so a model larger than the budget keeps its first layers cached instead of
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

    /** A derived form and the bytes it holds. */
    interface Derived {
        long bytes();
    }

    private record Key(long offset, String dtype, List<Integer> shape, List<Long> strides, String kind) {
    }

    private static final Map<Storage, Map<Key, Derived>> ENTRIES = new WeakHashMap<>();
    private static long used;

    /** Whether {@code weight} may be cached: its memory is read-only. */
    static boolean cacheable(Tensor weight) {
        return BUDGET > 0 && weight.segment().isReadOnly();
    }

    /** Whether a new entry of this many bytes for {@code weight} would be cached now. */
    static synchronized boolean wouldCache(Tensor weight, long bytes) {
        if (!cacheable(weight)) return false;
        if (used + bytes > BUDGET) used = recount();
        return used + bytes <= BUDGET;
    }

    /** The cached form of {@code weight} of this kind, or null. */
    static synchronized <T extends Derived> T get(Tensor weight, String kind, Class<T> type) {
        if (!cacheable(weight)) return null;
        Map<Key, Derived> forms = ENTRIES.get(weight.storage());
        return forms == null ? null : type.cast(forms.get(key(weight, kind)));
    }

    /**
     * The form of {@code weight} of this kind: cached, or made by {@code derive} (outside the lock, so threads may
     * derive the same form at once; the first stored wins) and cached when it fits the budget.
     */
    static <T extends Derived> T getOrDerive(Tensor weight, String kind, Class<T> type, Supplier<T> derive) {
        T cached = get(weight, kind, type);
        if (cached != null) return cached;
        T made = derive.get();
        if (!cacheable(weight)) return made;
        synchronized (WeightCache.class) {
            Map<Key, Derived> forms = ENTRIES.computeIfAbsent(weight.storage(), s -> new java.util.HashMap<>());
            Key key = key(weight, kind);
            Derived present = forms.get(key);
            if (present != null) return type.cast(present);
            if (used + made.bytes() > BUDGET) used = recount();
            if (used + made.bytes() <= BUDGET) {
                forms.put(key, made);
                used += made.bytes();
            }
            return made;
        }
    }

    /** Bytes held by live entries (also drops entries whose weights were collected). */
    private static long recount() {
        long total = 0;
        for (Map<Key, Derived> forms : new ArrayList<>(ENTRIES.values())) {
            for (Derived d : forms.values()) total += d.bytes();
        }
        return total;
    }

    /** Bytes the cache holds now. */
    static synchronized long usedBytes() {
        used = recount();
        return used;
    }

    private static Key key(Tensor t, String kind) {
        return new Key(t.offset(), t.dtype().name(), Arrays.stream(t.shape()).boxed().toList(),
                Arrays.stream(t.strides()).boxed().toList(), kind);
    }
}
