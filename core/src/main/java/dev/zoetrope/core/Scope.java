package dev.zoetrope.core;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Deterministic lifetime for activations: every tensor allocated while a scope is the innermost open one on
 * this thread belongs to it and is released when it closes. A forward pass, a block or a sampling step
 * opens one; {@link #keep(Tensor)} hands a result to the enclosing scope without copying.
 *
 * <pre>{@code
 * try (Scope step = Scope.open()) {
 *     Tensor noisePred = unet.forward(latents, t, context);   // intermediates die with `step`
 *     latents = step.keep(scheduler.step(noisePred, t, latents));
 * }
 * }</pre>
 *
 * Long-lived tensors (converted weights, KV caches) live in a scope the model owns and closes.
 */
public final class Scope implements AutoCloseable {
    private static final ThreadLocal<Scope> CURRENT = new ThreadLocal<>();

    private final Scope parent;
    private final Thread owner;
    private final BufferPool pool;
    private final Map<Storage, Boolean> owned = new IdentityHashMap<>();
    private boolean closed;

    private Scope(Scope parent, BufferPool pool) {
        this.parent = parent;
        this.pool = pool;
        this.owner = Thread.currentThread();
    }

    /** Opens a scope nested in the current one (or a root scope) and makes it current on this thread. */
    public static Scope open() {
        Scope scope = new Scope(CURRENT.get(), BufferPool.SHARED);
        CURRENT.set(scope);
        return scope;
    }

    /** The innermost open scope of this thread; fails with a clear message when none is open. */
    public static Scope current() {
        Scope scope = CURRENT.get();
        if (scope == null) {
            throw new IllegalStateException("no Scope is open on this thread: wrap tensor work in "
                    + "try (Scope s = Scope.open()) { ... }");
        }
        return scope;
    }

    public static boolean isOpen() {
        return CURRENT.get() != null;
    }

    Storage allocate(long bytes, String origin) {
        checkOpen();
        Storage storage = new Storage(pool.take(bytes), pool, origin);
        owned.put(storage, Boolean.TRUE);
        return storage;
    }

    /**
     * Moves the tensor's memory to the enclosing scope (zero copy) and returns the tensor. Borrowed memory
     * (mapped weights) is returned unchanged. At the root scope the tensor stays here.
     */
    public Tensor keep(Tensor tensor) {
        checkOpen();
        Storage storage = tensor.storage();
        if (owned.remove(storage) != null) {
            if (parent == null) {
                owned.put(storage, Boolean.TRUE);
            } else {
                parent.adopt(storage);
            }
        }
        return tensor;
    }

    /** {@link #keep(Tensor)} for several results. */
    public List<Tensor> keepAll(List<Tensor> tensors) {
        List<Tensor> out = new ArrayList<>(tensors.size());
        for (Tensor t : tensors) out.add(keep(t));
        return out;
    }

    private void adopt(Storage storage) {
        if (closed) throw new IllegalStateException("enclosing scope already closed");
        owned.put(storage, Boolean.TRUE);
    }

    /** Releases one tensor's memory now, before its scope closes (for large intermediates). */
    void releaseEarly(Storage storage) {
        if (owned.remove(storage) != null) storage.release();
    }

    static void release(Storage storage) {
        for (Scope s = CURRENT.get(); s != null; s = s.parent) {
            if (s.owned.containsKey(storage)) {
                s.releaseEarly(storage);
                return;
            }
        }
        // Owned by a scope of another thread or not pooled: leave it to its owner.
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("scope is closed");
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("scope used from a thread that did not open it");
        }
    }

    @Override
    public void close() {
        if (closed) return;
        if (CURRENT.get() != this) {
            throw new IllegalStateException("scopes must close innermost first");
        }
        for (Storage storage : owned.keySet()) storage.release();
        owned.clear();
        closed = true;
        CURRENT.set(parent);
    }
}
