package dev.zoetrope.media.video;

import dev.zoetrope.media.AtomicFiles;
import dev.zoetrope.media.MediaException;
import dev.zoetrope.media.RgbImage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Writes frames to a video file: {@code .gif} as an animated GIF (looping), anything else through FFmpeg
 * with the container chosen by the extension (mp4, mov, mkv: H.264 via the bundled OpenH264 encoder, else
 * MPEG-4 part 2; webm: VP9). The file appears only when {@link #finish()} succeeds (a temporary file in
 * the same directory is renamed over it); {@link #close()} without {@code finish()} discards everything.
 *
 * <pre>{@code
 * try (VideoWriter out = VideoWriter.open(path, 512, 320, 8)) {
 *     for (RgbImage f : frames) out.write(f);
 *     out.finish();
 * }
 * }</pre>
 */
public final class VideoWriter implements AutoCloseable {
    /** Where encoded frames go. */
    interface Sink extends AutoCloseable {
        void write(RgbImage frame);

        /** Completes the file (trailer, flush); the temporary file is then complete. */
        void finish();

        /** Frees native resources; must not throw. */
        @Override
        void close();

        String codecName();
    }

    private final AtomicFiles.Pending pending;
    private final Sink sink;
    private final int width;
    private final int height;
    private int frames;
    private boolean done;

    private VideoWriter(AtomicFiles.Pending pending, Sink sink, int width, int height) {
        this.pending = pending;
        this.sink = sink;
        this.width = width;
        this.height = height;
    }

    /** Starts a video of {@code width}×{@code height} frames at {@code fps}; the extension picks the format. */
    public static VideoWriter open(Path target, int width, int height, double fps) {
        if (width < 1 || height < 1) throw new IllegalArgumentException("frame size must be positive, got " + width + "x" + height);
        if (!(fps > 0) || Double.isInfinite(fps)) throw new IllegalArgumentException("fps must be positive, got " + fps);
        String name = target.getFileName().toString().toLowerCase(Locale.ROOT);
        AtomicFiles.Pending pending;
        try {
            pending = AtomicFiles.begin(target);
        } catch (IOException e) {
            throw new MediaException("cannot create video " + target + ": " + e.getMessage(), e);
        }
        try {
            Sink sink = name.endsWith(".gif")
                    ? new GifSink(pending.temporary(), fps)
                    : new FfmpegSink(pending.temporary(), target, width, height, fps);
            return new VideoWriter(pending, sink, width, height);
        } catch (RuntimeException e) {
            abortQuietly(pending, e);
            throw e;
        }
    }

    /** Writes all {@code frames} to {@code target} at {@code fps} (atomically). */
    public static void write(Path target, List<RgbImage> frames, double fps) {
        if (frames.isEmpty()) throw new IllegalArgumentException("no frames to write to " + target);
        try (VideoWriter out = open(target, frames.getFirst().width(), frames.getFirst().height(), fps)) {
            for (RgbImage f : frames) out.write(f);
            out.finish();
        }
    }

    /** The encoder in use (e.g. "libopenh264", "mpeg4", "gif"). */
    public String codecName() {
        return sink.codecName();
    }

    public void write(RgbImage frame) {
        if (done) throw new IllegalStateException("video already finished or closed: " + pending.target());
        if (frame.width() != width || frame.height() != height) {
            throw new IllegalArgumentException("frame " + frames + " is " + frame.width() + "x" + frame.height() + ", the video is "
                    + width + "x" + height);
        }
        sink.write(frame);
        frames++;
    }

    /** Completes the file and moves it into place. */
    public void finish() {
        if (done) throw new IllegalStateException("video already finished or closed: " + pending.target());
        if (frames == 0) throw new IllegalStateException("no frames written to " + pending.target());
        done = true;
        try {
            sink.finish();
            sink.close();
            pending.commit();
        } catch (IOException e) {
            abortQuietly(pending, e);
            throw new MediaException("cannot move the finished video to " + pending.target() + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            abortQuietly(pending, e);
            throw e;
        }
    }

    /** Frees the encoder; without a successful {@link #finish()} the partial file is deleted. */
    @Override
    public void close() {
        done = true;
        sink.close();
        try {
            pending.abort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void abortQuietly(AtomicFiles.Pending pending, Exception cause) {
        try {
            pending.abort();
        } catch (IOException e) {
            cause.addSuppressed(e);
        }
    }
}
