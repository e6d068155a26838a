package dev.zoetrope.cli;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * A one-line progress bar on stderr, redrawn in place with '\r' at most ten times a second. When stderr is
 * not a terminal (logs, pipes) it prints plain lines instead: one per {@link #line}.
 */
final class ProgressBar {
    private static final int WIDTH = 28;
    private static final long REDRAW_NANOS = 100_000_000L;

    private final PrintWriter err;
    private final boolean interactive;
    private long lastDraw;
    private int lastLength;

    ProgressBar(PrintWriter err, boolean interactive) {
        this.err = err;
        this.interactive = interactive;
    }

    boolean isInteractive() {
        return interactive;
    }

    /** Redraws the bar (throttled unless {@code force}); a no-op when not interactive. */
    void update(double fraction, String detail, boolean force) {
        if (!interactive) return;
        long now = System.nanoTime();
        if (!force && now - lastDraw < REDRAW_NANOS) return;
        lastDraw = now;
        String text = render(fraction, detail);
        err.print("\r" + text + " ".repeat(Math.max(0, lastLength - text.length())));
        err.flush();
        lastLength = text.length();
    }

    /** A line of its own (the bar, if drawn, is finished first). */
    void line(String text) {
        if (interactive && lastLength > 0) {
            err.print("\r" + " ".repeat(lastLength) + "\r");
            lastLength = 0;
        }
        err.println(text);
        err.flush();
    }

    /** Ends the bar's line. */
    void finish() {
        if (interactive && lastLength > 0) err.println();
        err.flush();
        lastLength = 0;
    }

    static String render(double fraction, String detail) {
        double f = Double.isNaN(fraction) ? 0 : Math.max(0, Math.min(1, fraction));
        int filled = (int) Math.round(f * WIDTH);
        return "[" + "#".repeat(filled) + ".".repeat(WIDTH - filled) + "] "
                + String.format(Locale.ROOT, "%3d%%", (int) Math.floor(f * 100)) + (detail.isEmpty() ? "" : "  " + detail);
    }

    static String bytes(long n) {
        if (n < 1024) return n + " B";
        if (n < 1024L * 1024) return String.format(Locale.ROOT, "%.1f KiB", n / 1024.0);
        if (n < 1024L * 1024 * 1024) return String.format(Locale.ROOT, "%.1f MiB", n / (1024.0 * 1024));
        return String.format(Locale.ROOT, "%.2f GiB", n / (1024.0 * 1024 * 1024));
    }
}
