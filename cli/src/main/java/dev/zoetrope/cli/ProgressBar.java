package dev.zoetrope.cli;

import dev.zoetrope.diffusion.pipelines.ProgressListener;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * A one-line denoising progress bar on stderr: {@code [#######-------] 7/20  1.35 it/s  ETA 0:09}, redrawn with
 * a carriage return; warnings go on their own lines. The rate counts from the first step's end, so model
 * loading and text encoding do not distort it.
 */
final class ProgressBar implements ProgressListener {
    private static final int WIDTH = 30;

    private final PrintWriter err;
    private final String label;
    private long startNanos;
    private int startStep;
    private boolean drawn;

    ProgressBar(PrintWriter err, String label) {
        this.err = err;
        this.label = label;
    }

    @Override
    public void onStep(Step step) {
        long now = System.nanoTime();
        if (step.step() == 0 || startNanos == 0) {
            startNanos = now;
            startStep = step.step();
        }
        int filled = step.total() == 0 ? WIDTH : WIDTH * step.step() / step.total();
        StringBuilder sb = new StringBuilder("\r").append(label).append(" [");
        sb.append("#".repeat(filled)).append("-".repeat(WIDTH - filled)).append("] ");
        sb.append(step.step()).append('/').append(step.total());
        int done = step.step() - startStep;
        double seconds = (now - startNanos) / 1e9;
        if (done > 0 && seconds > 0) {
            double rate = done / seconds;
            sb.append(rate >= 1 ? String.format(Locale.ROOT, "  %.2f it/s", rate)
                    : String.format(Locale.ROOT, "  %.2f s/it", 1 / rate));
            sb.append("  ETA ").append(clock((step.total() - step.step()) / rate));
        }
        err.print(sb);
        drawn = true;
        if (step.step() == step.total()) finish();
        err.flush();
    }

    @Override
    public void onWarning(String message) {
        if (drawn) finish();
        err.println("warning: " + message);
        err.flush();
    }

    /** Ends the bar's line (if one is drawn). */
    void finish() {
        if (drawn) err.println();
        drawn = false;
        err.flush();
    }

    static String clock(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
