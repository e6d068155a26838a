package dev.zoetrope.diffusion.pipelines;

import java.util.concurrent.CancellationException;

/**
 * A flag another thread can raise to stop a run: the pipeline checks it before each denoising step and before
 * decoding, and then throws a {@link CancellationException} saying how far it got.
 */
public final class CancellationToken {
    private volatile boolean cancelled;

    public void cancel() {
        cancelled = true;
    }

    public boolean isCancelled() {
        return cancelled;
    }

    /** Throws when cancelled; {@code where} says what was about to happen ("step 3 of 20"). */
    void check(String where) {
        if (cancelled) throw new CancellationException("generation cancelled before " + where);
    }
}
