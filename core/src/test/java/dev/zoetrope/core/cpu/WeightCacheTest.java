package dev.zoetrope.core.cpu;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Storage;
import dev.zoetrope.core.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the derived-weight cache keeps, and that it frees a form once its weight's memory is closed. */
class WeightCacheTest {
    /** A read-only [o, c, 3, 3] weight in its own arena, as a mapped checkpoint's tensor. */
    private static Tensor mapped(Arena arena, int o, int c) {
        MemorySegment memory = arena.allocate((long) o * c * 9 * Float.BYTES, 64);
        for (long i = 0; i < (long) o * c * 9; i++) memory.setAtIndex(ValueLayout.JAVA_FLOAT, i, (i % 7) * 0.1f);
        return Tensor.wrap(Storage.borrowed(memory.asReadOnly(), "test checkpoint"), DType.F32, new int[] {o, c, 3, 3}, 0);
    }

    @Test
    void readOnlyWeightsAreDerivedOnceAndFreedWhenClosed() {
        Arena checkpoint = Arena.ofShared();
        Tensor weight = mapped(checkpoint, 16, 8);
        int[] derived = {0};
        Object first = WeightCache.admit(weight, "test", Object.class, 1024, memory -> {
            derived[0]++;
            return new Object();
        });
        assertNotNull(first);
        assertSame(first, WeightCache.get(weight, "test", Object.class));
        assertSame(first, WeightCache.admit(weight, "test", Object.class, 1024, memory -> {
            derived[0]++;
            return new Object();
        }));
        assertEquals(1, derived[0], "derived once");
        assertNull(WeightCache.get(weight, "other kind", Object.class));
        long held = WeightCache.usedBytes();
        assertTrue(held >= 1024, held + " bytes held");

        checkpoint.close();   // the model's weights are gone: its forms are freed
        assertEquals(held - 1024, WeightCache.usedBytes());
    }

    @Test
    void writableWeightsAreNeverCached() {
        try (Scope scope = Scope.open()) {
            Tensor writable = Tensor.zeros(DType.F32, 4, 4, 3, 3);
            assertTrue(!WeightCache.cacheable(writable));
            assertNull(WeightCache.admit(writable, "test", Object.class, 64, memory -> new Object()));
            assertNull(WeightCache.get(writable, "test", Object.class));
        }
    }
}
