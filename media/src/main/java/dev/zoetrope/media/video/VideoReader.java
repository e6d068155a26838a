package dev.zoetrope.media.video;

import dev.zoetrope.media.MediaException;
import dev.zoetrope.media.RgbImage;
import org.bytedeco.ffmpeg.avcodec.AVCodec;
import org.bytedeco.ffmpeg.avcodec.AVCodecContext;
import org.bytedeco.ffmpeg.avcodec.AVCodecParameters;
import org.bytedeco.ffmpeg.avcodec.AVPacket;
import org.bytedeco.ffmpeg.avformat.AVFormatContext;
import org.bytedeco.ffmpeg.avformat.AVStream;
import org.bytedeco.ffmpeg.avutil.AVFrame;
import org.bytedeco.ffmpeg.avutil.AVRational;
import org.bytedeco.ffmpeg.swscale.SwsContext;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.PointerPointer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.bytedeco.ffmpeg.global.avcodec.*;
import static org.bytedeco.ffmpeg.global.avformat.*;
import static org.bytedeco.ffmpeg.global.avutil.*;
import static org.bytedeco.ffmpeg.global.swscale.*;

/**
 * Decodes the video stream of a file (mp4, webm, mkv, gif, … whatever the bundled FFmpeg demuxes) into RGB
 * frames, with random access by frame index. Opening scans the packets once (no decoding) to count the
 * frames and record their presentation timestamps; frame i is the i-th frame in presentation order. A
 * request jumps with a keyframe seek when that is shorter than decoding forward. Not thread-safe.
 */
public final class VideoReader implements AutoCloseable {
    /** Decode forward instead of seeking when the target is at most this many frames ahead. */
    private static final int FORWARD_DECODE_LIMIT = 48;
    private int forwardDecodeLimit = FORWARD_DECODE_LIMIT;

    private final Path path;
    private AVFormatContext format;
    private AVCodecContext decoder;
    private final int stream;
    private final int width;
    private final int height;
    private final double averageFps;
    /** Sorted presentation timestamps (stream time base), one per frame; null when some frame has none. */
    private final long[] framePts;
    private final int frameCount;
    private final AVPacket packet = av_packet_alloc();
    private final AVFrame frame = av_frame_alloc();
    private final AVFrame rgb = av_frame_alloc();
    private SwsContext sws;
    private int swsFormat = -1;
    /** Index of the frame the decoder returns next in sequential mode, or -1 if unknown. */
    private int nextIndex = -1;
    private boolean eof;
    private boolean timestampsComplete = true;

    private VideoReader(Path path) {
        this.path = path;
        Ffmpeg.init();
        this.format = openFormat(path);
        this.stream = Ffmpeg.check(av_find_best_stream(format, AVMEDIA_TYPE_VIDEO, -1, -1, (AVCodec) null, 0),
                "finding a video stream", path);
        AVStream st = format.streams(stream);
        AVCodecParameters par = st.codecpar();
        this.width = par.width();
        this.height = par.height();
        if (width <= 0 || height <= 0) throw new MediaException(path + ": video stream has no frame size");
        this.averageFps = fps(st);
        long[] pts = scanTimestamps();
        this.frameCount = pts.length;
        // Without a timestamp on every frame, frames can only be counted: requests then decode sequentially.
        this.framePts = timestampsComplete ? pts : null;
        if (frameCount == 0) throw new MediaException(path + ": video stream has no frames");
        this.decoder = openDecoder();
        rewind();
    }

    /** Opens a video file; a {@link MediaException} naming it if it is missing or not a decodable video. */
    public static VideoReader open(Path path) {
        if (!Files.isRegularFile(path)) throw new MediaException("video file not found: " + path);
        return new VideoReader(path);
    }

    private static AVFormatContext openFormat(Path path) {
        AVFormatContext ctx = new AVFormatContext(null);
        Ffmpeg.check(avformat_open_input(ctx, path.toString(), null, null), "opening as a video", path);
        int r = avformat_find_stream_info(ctx, (PointerPointer<?>) null);
        if (r < 0) {
            avformat_close_input(ctx);
            Ffmpeg.check(r, "reading stream information", path);
        }
        return ctx;
    }

    private AVCodecContext openDecoder() {
        AVCodecParameters par = format.streams(stream).codecpar();
        AVCodec codec = avcodec_find_decoder(par.codec_id());
        if (codec == null) throw new MediaException(path + ": no decoder for the video codec (id " + par.codec_id() + ")");
        AVCodecContext ctx = avcodec_alloc_context3(codec);
        Ffmpeg.check(avcodec_parameters_to_context(ctx, par), "configuring the decoder", path);
        Ffmpeg.check(avcodec_open2(ctx, codec, (PointerPointer<?>) null), "opening the " + codec.name().getString() + " decoder", path);
        return ctx;
    }

    /** The average frame rate as decord reports it: the stream's avg_frame_rate, else its r_frame_rate. */
    private static double fps(AVStream st) {
        AVRational avg = st.avg_frame_rate();
        if (avg.num() > 0 && avg.den() > 0) return (double) avg.num() / avg.den();
        AVRational r = st.r_frame_rate();
        if (r.num() > 0 && r.den() > 0) return (double) r.num() / r.den();
        return 0;
    }

    /** Reads every packet of the stream once; returns their sorted timestamps (presentation order). */
    private long[] scanTimestamps() {
        long[] pts = new long[256];
        int n = 0;
        int r;
        while ((r = av_read_frame(format, packet)) >= 0) {
            if (packet.stream_index() == stream) {
                long t = packet.pts() != AV_NOPTS_VALUE ? packet.pts() : packet.dts();
                if (t == AV_NOPTS_VALUE) timestampsComplete = false;
                if (n == pts.length) pts = Arrays.copyOf(pts, n * 2);
                pts[n++] = t;
            }
            av_packet_unref(packet);
        }
        if (r != AVERROR_EOF()) Ffmpeg.check(r, "reading packets", path);
        pts = Arrays.copyOf(pts, n);
        Arrays.sort(pts);
        return pts;
    }

    public Path path() {
        return path;
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    /** Frames per second (the stream's average frame rate; 0 if the file does not say). */
    public double averageFps() {
        return averageFps;
    }

    public int frameCount() {
        return frameCount;
    }

    /** Tests: how far ahead to decode instead of seeking (0 = seek for every jump). */
    void forwardDecodeLimit(int frames) {
        this.forwardDecodeLimit = frames;
    }

    /** Frame {@code index} (0-based, presentation order). */
    public RgbImage frame(int index) {
        return frames(new int[]{index}).getFirst();
    }

    /** The frames at {@code indices}, in the order given (duplicates allowed); decoded in ascending order. */
    public List<RgbImage> frames(int[] indices) {
        for (int i : indices) {
            if (i < 0 || i >= frameCount) {
                throw new IndexOutOfBoundsException(path + ": frame " + i + " requested, the video has " + frameCount + " frames");
            }
        }
        Map<Integer, RgbImage> decoded = new TreeMap<>();
        for (int i : indices) decoded.put(i, null);
        for (Map.Entry<Integer, RgbImage> e : decoded.entrySet()) e.setValue(decodeFrame(e.getKey()));
        List<RgbImage> out = new ArrayList<>(indices.length);
        for (int i : indices) out.add(decoded.get(i));
        return out;
    }

    private RgbImage decodeFrame(int target) {
        boolean timestamps = framePts != null;
        boolean forward = nextIndex >= 0 && target >= nextIndex && target - nextIndex <= forwardDecodeLimit;
        if (!forward) {
            if (timestamps && target > 0 && seekTo(framePts[target])) {
                nextIndex = -1; // position known only from the decoded frames' timestamps
            } else {
                rewind();
            }
        }
        while (true) {
            boolean afterSeek = timestamps && nextIndex < 0;
            if (!receiveFrame()) {
                if (afterSeek) { // the seek led nowhere useful: count from the start instead
                    rewind();
                    continue;
                }
                throw new MediaException(path + ": the stream ended before frame " + target + " of " + frameCount);
            }
            int index;
            if (afterSeek) {
                long pts = frame.best_effort_timestamp();
                index = indexOf(pts);
                // A timestamp we did not index, or a seek that overshot: start again from the beginning.
                if (index < 0 ? pts > framePts[target] : index > target) {
                    rewind();
                    continue;
                }
                if (index < 0) continue;
                nextIndex = index + 1;
            } else {
                index = nextIndex++;
            }
            if (index == target) return toRgb();
        }
    }

    private int indexOf(long pts) {
        int i = Arrays.binarySearch(framePts, pts);
        return i >= 0 ? i : -1;
    }

    private boolean seekTo(long pts) {
        if (av_seek_frame(format, stream, pts, AVSEEK_FLAG_BACKWARD) < 0) return false;
        avcodec_flush_buffers(decoder);
        eof = false;
        return true;
    }

    /** Back to the first frame (reopening the file: not every demuxer can seek, GIF's included). */
    private void rewind() {
        avcodec_free_context(decoder);
        avformat_close_input(format);
        format = openFormat(path);
        decoder = openDecoder();
        nextIndex = 0;
        eof = false;
    }

    /** Decodes the next frame into {@link #frame}; false at the end of the stream. */
    private boolean receiveFrame() {
        while (true) {
            int r = avcodec_receive_frame(decoder, frame);
            if (r >= 0) return true;
            if (r == AVERROR_EOF()) return false;
            if (r != AVERROR_EAGAIN()) Ffmpeg.check(r, "decoding", path);
            if (eof) return false;
            // The decoder wants input: feed it the next packet of our stream (or the end-of-stream flush).
            while (true) {
                int read = av_read_frame(format, packet);
                if (read < 0) {
                    if (read != AVERROR_EOF()) Ffmpeg.check(read, "reading packets", path);
                    eof = true;
                    Ffmpeg.check(avcodec_send_packet(decoder, null), "flushing the decoder", path);
                    break;
                }
                try {
                    if (packet.stream_index() == stream) {
                        Ffmpeg.check(avcodec_send_packet(decoder, packet), "decoding", path);
                        break;
                    }
                } finally {
                    av_packet_unref(packet);
                }
            }
        }
    }

    private RgbImage toRgb() {
        int w = frame.width(), h = frame.height();
        if (sws == null || swsFormat != frame.format() || rgb.width() != w || rgb.height() != h) {
            if (sws != null) sws_freeContext(sws);
            sws = sws_getContext(w, h, frame.format(), w, h, AV_PIX_FMT_RGB24, SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT,
                    null, null, (DoublePointer) null);
            if (sws == null) throw new MediaException(path + ": cannot convert pixel format " + frame.format() + " to RGB");
            swsFormat = frame.format();
            av_frame_unref(rgb);
            rgb.format(AV_PIX_FMT_RGB24);
            rgb.width(w);
            rgb.height(h);
            Ffmpeg.check(av_frame_get_buffer(rgb, 0), "allocating an RGB frame", path);
        }
        sws_scale(sws, frame.data(), frame.linesize(), 0, h, rgb.data(), rgb.linesize());
        byte[] px = new byte[w * h * 3];
        BytePointer data = rgb.data(0);
        int stride = rgb.linesize(0);
        for (int y = 0; y < h; y++) data.position((long) y * stride).get(px, y * w * 3, w * 3);
        data.position(0);
        return new RgbImage(w, h, px);
    }

    @Override
    public void close() {
        if (sws != null) sws_freeContext(sws);
        sws = null;
        av_frame_free(rgb);
        av_frame_free(frame);
        av_packet_free(packet);
        if (decoder != null) avcodec_free_context(decoder);
        decoder = null;
        if (format != null) avformat_close_input(format);
        format = null;
    }
}
