package dev.zoetrope.core;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * The one thread pool, sized to the cores ({@code -Dzoetrope.threads=N} or {@link #setThreads}). Kernels
 * split work into tasks whose boundaries depend only on the problem size, never on the thread count, and
 * each output element is computed by exactly one task in a fixed order, so results are bit-identical for
 * any number of threads. A call from inside a task runs inline (no nested parallelism).
 *
 * <p>An LLM decode step is ~100 parallel regions of tens of microseconds each, separated by short serial work
 * (norms, attention over the cache). Waking a parked thread costs about as much as such a region, so the helpers
 * spin for {@code -Dzoetrope.spinMicros} (default 2000) after their last task before parking: regions in quick
 * succession find them awake. A second caller arriving while the pool works for another runs its tasks itself.
 */
public final class Parallel {
    private static volatile int threads = Integer.getInteger("zoetrope.threads",
            Runtime.getRuntime().availableProcessors());
    private static final long SPIN_NANOS = Math.max(0, Long.getLong("zoetrope.spinMicros", 2000)) * 1000;
    private static final ThreadLocal<Boolean> IN_TASK = ThreadLocal.withInitial(() -> Boolean.FALSE);
    private static final ReentrantLock SUBMIT = new ReentrantLock();
    private static Pool pool;

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

    private static synchronized Pool pool() {
        if (pool == null) pool = new Pool(Math.max(1, threads - 1));
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
        Job job = new Job(n, body, Thread.currentThread());
        if (!SUBMIT.tryLock()) {   // the pool works for another caller: do it all here (same tasks, same results)
            job.work();
            job.rethrow();
            return;
        }
        try {
            Pool p = pool();
            p.publish(job, Math.min(t, n) - 1);
            // The caller works too and waits only for tasks a helper has actually taken: a helper that starts after
            // every task was claimed (it was slow to wake, e.g. on a busy machine) finds nothing to do and delays
            // no one.
            job.work();
            job.awaitTaken();
            p.retire(job);
        } finally {
            SUBMIT.unlock();
        }
        job.rethrow();
    }

    /** One forEach call: tasks claimed in order by whoever runs {@link #work}. */
    private static final class Job {
        final int n;
        final IntConsumer body;
        final Thread caller;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger unfinished;
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Job(int n, IntConsumer body, Thread caller) {
            this.n = n;
            this.body = body;
            this.caller = caller;
            this.unfinished = new AtomicInteger(n);
        }

        void work() {
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
                        if (unfinished.decrementAndGet() == 0 && Thread.currentThread() != caller) LockSupport.unpark(caller);
                    }
                }
            } finally {
                IN_TASK.set(nested);
            }
        }

        /** Waits for the tasks helpers took; an interrupt is kept for after (they may still use the caller's memory). */
        void awaitTaken() {
            boolean interrupted = false;
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (unfinished.get() != 0) {
                if (System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                    if (Thread.interrupted()) interrupted = true;
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
        }

        void rethrow() {
            Throwable f = failure.get();
            if (f instanceof RuntimeException re) throw re;
            if (f instanceof Error err) throw err;
            if (f != null) throw new IllegalStateException(f);
        }
    }

    /** Helper threads that take the published job, then spin a while for the next before parking. */
    private static final class Pool {
        private final List<Helper> helpers = new ArrayList<>();
        private volatile Job current;
        private volatile long generation;
        private volatile boolean shutdown;

        Pool(int size) {
            for (int i = 0; i < size; i++) {
                Helper h = new Helper(this, i + 1);
                helpers.add(h);
                h.start();
            }
        }

        /** Offers {@code job} to the first {@code wanted} helpers. */
        void publish(Job job, int wanted) {
            current = job;
            generation++;   // only the caller holding SUBMIT writes it; the volatile write publishes the job
            for (int i = 0; i < Math.min(wanted, helpers.size()); i++) {
                Helper h = helpers.get(i);
                h.assigned = generation;
                if (h.parked) LockSupport.unpark(h);
            }
        }

        void retire(Job job) {
            if (current == job) current = null;
        }

        void shutdown() {
            shutdown = true;
            for (Helper h : helpers) LockSupport.unpark(h);
        }
    }

    private static final class Helper extends Thread {
        private final Pool pool;
        volatile long assigned;
        volatile boolean parked;
        private long done;

        Helper(Pool pool, int index) {
            super("zoetrope-worker-" + index);
            this.pool = pool;
            setDaemon(true);
        }

        @Override
        public void run() {
            while (!pool.shutdown) {
                long spinUntil = System.nanoTime() + SPIN_NANOS;
                while (assigned == done && !pool.shutdown) {
                    if (System.nanoTime() < spinUntil) {
                        Thread.onSpinWait();
                    } else {
                        parked = true;
                        if (assigned == done && !pool.shutdown) LockSupport.park(this);
                        parked = false;
                        spinUntil = System.nanoTime() + SPIN_NANOS;
                    }
                }
                if (pool.shutdown) return;
                done = assigned;
                Job job = pool.current;
                if (job != null) job.work();
            }
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
