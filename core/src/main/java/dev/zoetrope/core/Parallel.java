package dev.zoetrope.core;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The one thread pool, sized to the cores ({@code -Dzoetrope.threads=N} or {@link #setThreads}). Kernels
 * split work into tasks whose boundaries depend only on the problem size, never on the thread count, and
 * each output element is computed by exactly one task in a fixed order, so results are bit-identical for
 * any number of threads. A call from inside a task runs inline (no nested parallelism).
 */
public final class Parallel {
    private static volatile int threads = Integer.getInteger("zoetrope.threads",
            Runtime.getRuntime().availableProcessors());
    private static ExecutorService pool;
    private static final ThreadLocal<Boolean> IN_TASK = ThreadLocal.withInitial(() -> Boolean.FALSE);

    private Parallel() {
    }

    public static int threads() {
        return threads;
    }

    /** Sets the number of threads used from now on (including the caller); 1 runs everything inline. */
    public static synchronized void setThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("threads must be >= 1");
        if (n != threads && pool != null) {
            pool.shutdown();
            pool = null;
        }
        threads = n;
    }

    private static synchronized ExecutorService pool() {
        if (pool == null) {
            AtomicInteger count = new AtomicInteger();
            ThreadFactory factory = r -> {
                Thread t = new Thread(r, "zoetrope-worker-" + count.incrementAndGet());
                t.setDaemon(true);
                return t;
            };
            pool = Executors.newFixedThreadPool(Math.max(1, threads - 1), factory);
        }
        return pool;
    }

    /** Runs {@code body.accept(i)} for i in [0, n), spread over the pool; returns when all are done. */
    public static void forEach(int n, IntConsumer body) {
        if (n <= 0) return;
        int t = threads;
        if (n == 1 || t == 1 || IN_TASK.get()) {
            for (int i = 0; i < n; i++) body.accept(i);
            return;
        }
        // The caller works too and waits only for tasks a helper has actually taken: a helper that starts after
        // every task was claimed (it was slow to wake, e.g. on a busy machine) finds nothing to do and delays no
        // one. This matters for the ~100 small parallel regions of an LLM decode step.
        AtomicInteger next = new AtomicInteger();
        AtomicInteger unfinished = new AtomicInteger(n);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread caller = Thread.currentThread();
        Runnable worker = () -> {
            boolean nested = IN_TASK.get();
            IN_TASK.set(Boolean.TRUE);
            try {
                int i;
                while ((i = next.getAndIncrement()) < n) {
                    try {
                        if (failure.get() == null) body.accept(i);
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    } finally {
                        if (unfinished.decrementAndGet() == 0) LockSupport.unpark(caller);
                    }
                }
            } finally {
                IN_TASK.set(nested);
            }
        };
        ExecutorService p = pool();
        for (int h = Math.min(t, n) - 1; h > 0; h--) p.execute(worker);
        worker.run();
        long spinUntil = System.nanoTime() + SPIN_NANOS;
        while (unfinished.get() != 0) {
            if (System.nanoTime() < spinUntil) {
                Thread.onSpinWait();
            } else {
                LockSupport.park(unfinished);
                if (Thread.interrupted()) {
                    // keep waiting: tasks in flight may still use the caller's memory; restore the flag after
                    waitUninterruptibly(unfinished);
                    Thread.currentThread().interrupt();
                }
            }
        }
        Throwable f = failure.get();
        if (f instanceof RuntimeException re) throw re;
        if (f instanceof Error err) throw err;
        if (f != null) throw new IllegalStateException(f);
    }

    /** How long the caller spins for the last tasks before parking (a helper's task usually ends within it). */
    private static final long SPIN_NANOS = 20_000;

    private static void waitUninterruptibly(AtomicInteger unfinished) {
        while (unfinished.get() != 0) {
            LockSupport.park(unfinished);
            Thread.interrupted();
        }
    }

    /**
     * Splits [0, total) into chunks of {@code grain} (the last may be shorter) and runs
     * {@code body.run(start, end)} for each; chunk boundaries depend only on total and grain.
     */
    public static void forRange(long total, long grain, RangeBody body) {
        if (total <= 0) return;
        long g = Math.max(1, grain);
        long chunks = (total + g - 1) / g;
        if (chunks > Integer.MAX_VALUE) throw new IllegalArgumentException("too many chunks");
        forEach((int) chunks, c -> {
            long start = c * g;
            body.run(start, Math.min(total, start + g));
        });
    }

    @FunctionalInterface
    public interface RangeBody {
        void run(long start, long end);
    }
}
