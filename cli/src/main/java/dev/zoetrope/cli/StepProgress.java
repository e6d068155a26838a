package dev.zoetrope.cli;

import dev.zoetrope.diffusion.pipelines.ProgressListener;

import java.util.Locale;

/**
 * Denoising progress on a {@link ProgressBar}: {@code [#####.......]  35%  step 7/20  1.35 it/s  ETA 0:09}. The
 * rate counts from the start of the loop, so model loading and text encoding do not distort it. Warnings (and,
 * when stderr is not a terminal, the loop's end) get lines of their own.
 */
final class StepProgress implements ProgressListener {
    private final ProgressBar bar;
    private final boolean showSteps;
    private final String startLine;
    private long startNanos;

    /** @param startLine printed when the denoising loop starts (null: nothing), e.g. the random seed */
    StepProgress(ProgressBar bar, boolean showSteps, String startLine) {
        this.bar = bar;
        this.showSteps = showSteps;
        this.startLine = startLine;
    }

    @Override
    public void onStep(Step step) {
        if (step.step() == 0 && startLine != null) bar.line(startLine);
        if (!showSteps) return;
        long now = System.nanoTime();
        if (step.step() == 0) startNanos = now;
        double seconds = (now - startNanos) / 1e9;
        bar.update(step.total() == 0 ? 1 : (double) step.step() / step.total(), detail(step.step(), step.total(), seconds),
                step.step() == 0 || step.step() == step.total());
        if (step.step() == step.total()) {
            bar.finish();
            if (!bar.isInteractive()) bar.line(detail(step.step(), step.total(), seconds));
        }
    }

    @Override
    public void onWarning(String message) {
        bar.line("warning: " + message);
    }

    /** "step 7/20  1.35 it/s  ETA 0:09" (seconds per iteration below one iteration a second). */
    static String detail(int done, int total, double seconds) {
        StringBuilder sb = new StringBuilder("step ").append(done).append('/').append(total);
        if (done > 0 && seconds > 0) {
            double rate = done / seconds;
            sb.append(rate >= 1 ? String.format(Locale.ROOT, "  %.2f it/s", rate)
                    : String.format(Locale.ROOT, "  %.2f s/it", 1 / rate));
            sb.append(done < total ? "  ETA " + clock((total - done) / rate) : "  " + clock(seconds));
        }
        return sb.toString();
    }

    static String clock(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
