package dev.zoetrope.media.video;

import dev.zoetrope.media.MediaException;
import org.bytedeco.ffmpeg.global.avutil;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Shared FFmpeg glue: library set-up and error messages that name the file. */
final class Ffmpeg {
    static {
        // FFmpeg logs warnings for ordinary files (e.g. the mp4 muxer's timestamp notes); errors come back as
        // return codes that the callers turn into exceptions.
        avutil.av_log_set_level(avutil.AV_LOG_ERROR);
    }

    private Ffmpeg() {
    }

    static void init() {
        // Triggers the static initialiser (loads the native libraries from the jar on first use).
    }

    static String describe(int code) {
        byte[] buf = new byte[256];
        avutil.av_strerror(code, buf, buf.length);
        int n = 0;
        while (n < buf.length && buf[n] != 0) n++;
        return new String(buf, 0, n, StandardCharsets.UTF_8) + " (" + code + ")";
    }

    /** Returns {@code code} if it is not an error, else throws naming the file and the step. */
    static int check(int code, String step, Path file) {
        if (code < 0) throw new MediaException(file + ": " + step + " failed: " + describe(code));
        return code;
    }
}
