package dev.zoetrope.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Parallel.forEach: every index once, failures surface after the tasks in flight, nesting runs inline, interrupts,
 * callers on several threads at once, a pool whose helpers have parked.
 */
class ParallelTest {
    private int saved;

    @BeforeEach
    void twoThreads() {
        saved = Parallel.threads();
        Parallel.setThreads(2);
    }

    @AfterEach
    void restore() {
        Parallel.setThreads(saved);
    }

    @Test
    void everyIndexRunsExactlyOnceOverManyCalls() {
        for (int call = 0; call < 500; call++) {
            int n = 1 + call % 37;
            AtomicIntegerArray runs = new AtomicIntegerArray(n);
            Parallel.forEach(n, runs::incrementAndGet);
            for (int i = 0; i < n; i++) assertEquals(1, runs.get(i), "call " + call + " index " + i);
        }
    }

    @Test
    void aFailingTaskIsRethrownToTheCaller() {
        IllegalStateException boom = new IllegalStateException("boom");
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> Parallel.forEach(64, i -> {
            if (i == 17) throw boom;
        }));
        assertSame(boom, thrown);
        AtomicIntegerArray runs = new AtomicIntegerArray(8);   // the pool still works afterwards
        Parallel.forEach(8, runs::incrementAndGet);
        for (int i = 0; i < 8; i++) assertEquals(1, runs.get(i));
    }

    @Test
    void nestedCallsRunInlineOnTheTaskThread() {
        AtomicIntegerArray sameThread = new AtomicIntegerArray(16);
        Parallel.forEach(4, outer -> {
            Thread t = Thread.currentThread();
            Parallel.forEach(4, inner -> {
                if (Thread.currentThread() == t) sameThread.incrementAndGet(outer * 4 + inner);
            });
        });
        for (int i = 0; i < 16; i++) assertEquals(1, sameThread.get(i));
    }

    @Test
    void anInterruptedCallerStillWaitsForEveryTaskAndKeepsItsFlag() {
        AtomicIntegerArray runs = new AtomicIntegerArray(32);
        Thread.currentThread().interrupt();
        try {
            Parallel.forEach(32, i -> {
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();   // the caller's own flag: the task runs on regardless
                }
                runs.incrementAndGet(i);
            });
            assertTrue(Thread.currentThread().isInterrupted(), "interrupt flag kept");
        } finally {
            Thread.interrupted();
        }
        for (int i = 0; i < 32; i++) assertEquals(1, runs.get(i), "task " + i + " ran before the call returned");
    }

    @Test
    void callersOnSeveralThreadsAtOnceEachGetEveryIndexOnce() throws InterruptedException {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> callers = new ArrayList<>();
        for (int c = 0; c < 4; c++) {
            int caller = c;
            callers.add(Thread.ofPlatform().start(() -> {
                try {
                    for (int call = 0; call < 300; call++) {
                        int n = 1 + (call + caller) % 23;
                        AtomicIntegerArray runs = new AtomicIntegerArray(n);
                        Parallel.forEach(n, runs::incrementAndGet);
                        for (int i = 0; i < n; i++) {
                            if (runs.get(i) != 1) throw new AssertionError("caller " + caller + " call " + call + " index " + i);
                        }
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        for (Thread t : callers) t.join();
        if (failure.get() != null) throw new AssertionError(failure.get());
    }

    @Test
    void helpersThatParkedAreWokenForTheNextCall() throws InterruptedException {
        for (int round = 0; round < 3; round++) {
            Thread.sleep(20);   // longer than the helpers spin: they park
            AtomicIntegerArray runs = new AtomicIntegerArray(16);
            Parallel.forEach(16, i -> {
                busyMicros(200);
                runs.incrementAndGet(i);
            });
            for (int i = 0; i < 16; i++) assertEquals(1, runs.get(i), "round " + round + " index " + i);
        }
    }

    private static void busyMicros(long micros) {
        long until = System.nanoTime() + micros * 1000;
        while (System.nanoTime() < until) Thread.onSpinWait();
    }
}
