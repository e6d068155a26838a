package dev.zoetrope.core;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Lifetimes: keep moves a result out, close releases, stale tensors fail loudly, the pool recycles memory. */
class ScopeTest {
    @Test
    void tensorWorkNeedsAScope() {
        assertFalse(Scope.isOpen());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Tensor.zeros(DType.F32, 2));
        assertTrue(e.getMessage().contains("Scope.open()"), e.getMessage());
    }

    @Test
    void keepMovesTheResultToTheEnclosingScope() {
        try (Scope outer = Scope.open()) {
            Tensor kept, dropped;
            try (Scope inner = Scope.open()) {
                dropped = Tensor.full(1f, 4);
                kept = inner.keep(Tensor.full(2f, 4));
                assertEquals(4, kept.reshape(2, 2).toFloatArray().length);
            }
            assertEquals(2f, kept.getFloat(3), "kept tensor outlives the inner scope");
            assertTrue(dropped.storage().isReleased());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> dropped.getFloat(0));
            assertTrue(e.getMessage().contains("after its scope was closed"), e.getMessage());
            // a view of a dropped tensor fails the same way, also inside ops
            assertThrows(IllegalStateException.class, () -> Ops.add(dropped.reshape(2, 2), dropped.reshape(2, 2)));
            assertFalse(kept.storage().isReleased());
        }
        assertFalse(Scope.isOpen());
    }

    @Test
    void keepAtTheRootStaysUntilTheRootCloses() {
        Tensor t;
        try (Scope root = Scope.open()) {
            t = root.keep(Tensor.full(3f, 2));
            assertEquals(3f, t.getFloat(1));
        }
        assertTrue(t.storage().isReleased());
    }

    @Test
    void closedScopeRejectsUse() {
        Scope s = Scope.open();
        Tensor t = Tensor.zeros(DType.F32, 3);
        s.close();
        s.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> s.keep(t));
        assertFalse(Scope.isOpen());
    }

    @Test
    void scopesCloseInnermostFirst() {
        try (Scope outer = Scope.open()) {
            Scope inner = Scope.open();
            IllegalStateException e = assertThrows(IllegalStateException.class, outer::close);
            assertTrue(e.getMessage().contains("innermost"), e.getMessage());
            inner.close();
        }
    }

    @Test
    void scopeBelongsToItsThread() throws InterruptedException {
        try (Scope s = Scope.open()) {
            Tensor t = Tensor.zeros(DType.F32, 2);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread other = new Thread(() -> {
                try {
                    s.keep(t);
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            other.start();
            other.join();
            assertTrue(failure.get() instanceof IllegalStateException, String.valueOf(failure.get()));
            assertTrue(failure.get().getMessage().contains("thread"), failure.get().getMessage());
        }
    }

    @Test
    void earlyCloseReleasesOneTensor() {
        try (Scope s = Scope.open()) {
            Tensor big = Tensor.zeros(DType.F32, 1000);
            Tensor other = Tensor.zeros(DType.F32, 10);
            big.close();
            assertTrue(big.storage().isReleased());
            assertFalse(other.storage().isReleased());
            big.close(); // second close is a no-op
        }
    }

    /** Conversions and contiguous copies a kernel makes of its inputs do not stay in the caller's scope. */
    @Test
    void kernelsReleaseTheirTemporaries() {
        BufferPool pool = BufferPool.SHARED;
        try (Scope s = Scope.open()) {
            Tensor half = Tensor.full(0.5f, 64, 1000).to(DType.BF16);
            Tensor strided = Tensor.full(1.5f, 1000, 64).transpose(0, 1);
            Tensor kv = Tensor.full(0.25f, 1, 2, 300, 32).to(DType.F16);
            Tensor q = Tensor.full(0.1f, 1, 2, 9, 32);
            long base = pool.liveBytes();
            Tensor[] outs = {
                    Ops.silu(half), Ops.add(half, strided), Ops.groupNorm(strided.unsqueeze(0), 8, null, null, 1e-5f),
                    Ops.layerNorm(strided, null, null, 1e-5f), Ops.softmax(half), Ops.attention(q, kv, kv),
                    Ops.attention(q.narrow(2, 0, 3), kv, kv), Ops.sumLast(strided)};
            long expected = 0;
            for (Tensor t : outs) expected += BufferPool.sizeClass(t.numel() * 4);
            assertEquals(base + expected, pool.liveBytes(), "only the results remain allocated");
        }
    }

    @Test
    void bufferPoolReusesReleasedBuffers() {
        BufferPool pool = BufferPool.SHARED;
        long bytes = 3 * 1024 * 1024 + 123;
        long address;
        long liveBefore = pool.liveBytes();
        try (Scope s = Scope.open()) {
            Tensor t = Tensor.empty(DType.U8, (int) bytes);
            address = t.segment().address();
            assertEquals(liveBefore + BufferPool.sizeClass(bytes), pool.liveBytes());
        }
        assertEquals(liveBefore, pool.liveBytes());
        long cached = pool.cachedBytes();
        assertTrue(cached >= BufferPool.sizeClass(bytes));
        try (Scope s = Scope.open()) {
            Tensor again = Tensor.empty(DType.U8, (int) bytes - 100); // same size class
            assertEquals(address, again.segment().address(), "the released buffer is handed out again");
            assertEquals(cached - BufferPool.sizeClass(bytes), pool.cachedBytes());
        }
        assertEquals(64, BufferPool.sizeClass(0));
        assertEquals(4096, BufferPool.sizeClass(1));
        assertEquals(65536, BufferPool.sizeClass(65536));
        long c = BufferPool.sizeClass(100_000);
        assertTrue(c >= 100_000 && c <= 100_000 * 1.25, "size classes waste at most 25%: " + c);
    }
}
