package dev.zoetrope.diffusion.pipelines;

import dev.zoetrope.diffusion.noise.NoiseSource;

/**
 * How a run is observed and fed, apart from what it computes: a progress listener, a cancellation flag, a noise
 * source overriding the seed's generator (every Gaussian draw of the run, in diffusers' order — tests inject
 * recorded noise here), and an inspector for intermediates. Immutable.
 */
public record RunOptions(ProgressListener progress, CancellationToken cancellation, NoiseSource noise,
                         Inspector inspector) {
    public RunOptions {
        if (progress == null) progress = ProgressListener.NONE;
        if (inspector == null) inspector = Inspector.NONE;
    }

    public static RunOptions defaults() {
        return new RunOptions(null, null, null, null);
    }

    public RunOptions withProgress(ProgressListener p) {
        return new RunOptions(p, cancellation, noise, inspector);
    }

    public RunOptions withCancellation(CancellationToken c) {
        return new RunOptions(progress, c, noise, inspector);
    }

    /** Draws every random tensor from {@code source} instead of the generator seeded with the request's seed. */
    public RunOptions withNoise(NoiseSource source) {
        return new RunOptions(progress, cancellation, source, inspector);
    }

    public RunOptions withInspector(Inspector i) {
        return new RunOptions(progress, cancellation, noise, i);
    }
}
