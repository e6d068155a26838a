package dev.zoetrope.media.video;

import dev.zoetrope.media.MediaException;
import dev.zoetrope.media.RgbImage;
import org.bytedeco.ffmpeg.avcodec.AVCodec;
import org.bytedeco.ffmpeg.avcodec.AVCodecContext;
import org.bytedeco.ffmpeg.avcodec.AVPacket;
import org.bytedeco.ffmpeg.avformat.AVFormatContext;
import org.bytedeco.ffmpeg.avformat.AVIOContext;
import org.bytedeco.ffmpeg.avformat.AVStream;
import org.bytedeco.ffmpeg.avutil.AVFrame;
import org.bytedeco.ffmpeg.avutil.AVRational;
import org.bytedeco.ffmpeg.swscale.SwsContext;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.PointerPointer;

import java.nio.file.Path;

import static org.bytedeco.ffmpeg.global.avcodec.*;
import static org.bytedeco.ffmpeg.global.avformat.*;
import static org.bytedeco.ffmpeg.global.avutil.*;
import static org.bytedeco.ffmpeg.global.swscale.*;

/** FFmpeg encoding into a container picked from the file name; frames converted RGB24 → YUV 4:2:0 (BT.601). */
final class FfmpegSink implements VideoWriter.Sink {
    private final Path target; // for messages: the temporary file's name means nothing to the user
    private final int width;
    private final int height;
    private AVFormatContext output;
    private AVCodecContext encoder;
    private AVStream stream;
    private final AVFrame rgb = av_frame_alloc();
    private final AVFrame yuv = av_frame_alloc();
    private final AVPacket packet = av_packet_alloc();
    private SwsContext sws;
    private final String codecName;
    private long pts;
    private boolean headerWritten;

    FfmpegSink(Path temporary, Path target, int width, int height, double fps) {
        Ffmpeg.init();
        this.target = target;
        this.width = width;
        this.height = height;
        try {
            output = new AVFormatContext(null);
            // The temporary file keeps the target's extension, so FFmpeg guesses the same container.
            int r = avformat_alloc_output_context2(output, null, null, temporary.toString());
            if (r < 0 || output.isNull()) {
                output = null;
                throw new MediaException(target + ": FFmpeg has no muxer for this file extension (use .mp4, .mkv, .mov, .webm or .gif)");
            }
            AVCodec codec = chooseEncoder();
            codecName = codec.name().getString();
            if ((width % 2 != 0 || height % 2 != 0)) {
                throw new IllegalArgumentException(target + ": " + codecName + " with 4:2:0 chroma needs an even frame size, got "
                        + width + "x" + height);
            }
            stream = avformat_new_stream(output, null);
            encoder = avcodec_alloc_context3(codec);
            AVRational rate = av_d2q(fps, 1_001_000);
            encoder.codec_id(codec.id());
            encoder.width(width);
            encoder.height(height);
            encoder.pix_fmt(AV_PIX_FMT_YUV420P);
            encoder.time_base(av_inv_q(rate));
            encoder.framerate(rate);
            encoder.gop_size(Math.max(1, (int) Math.round(fps)));
            encoder.max_b_frames(0);
            // Generous bit rate: these are short generated clips where quality matters more than size.
            encoder.bit_rate(Math.max(2_000_000L, (long) (width * (double) height * fps * 0.3)));
            if ((output.oformat().flags() & AVFMT_GLOBALHEADER) != 0) encoder.flags(encoder.flags() | AV_CODEC_FLAG_GLOBAL_HEADER);
            Ffmpeg.check(avcodec_open2(encoder, codec, (PointerPointer<?>) null), "opening the " + codecName + " encoder", target);
            Ffmpeg.check(avcodec_parameters_from_context(stream.codecpar(), encoder), "configuring the stream", target);
            stream.time_base(encoder.time_base());
            stream.avg_frame_rate(rate);
            AVIOContext io = new AVIOContext(null);
            Ffmpeg.check(avio_open(io, temporary.toString(), AVIO_FLAG_WRITE), "creating the file", target);
            output.pb(io);
            Ffmpeg.check(avformat_write_header(output, (PointerPointer<?>) null), "writing the header", target);
            headerWritten = true;

            rgb.format(AV_PIX_FMT_RGB24);
            rgb.width(width);
            rgb.height(height);
            Ffmpeg.check(av_frame_get_buffer(rgb, 0), "allocating frames", target);
            yuv.format(AV_PIX_FMT_YUV420P);
            yuv.width(width);
            yuv.height(height);
            Ffmpeg.check(av_frame_get_buffer(yuv, 0), "allocating frames", target);
            sws = sws_getContext(width, height, AV_PIX_FMT_RGB24, width, height, AV_PIX_FMT_YUV420P,
                    SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INP, null, null, (DoublePointer) null);
            if (sws == null) throw new MediaException(target + ": cannot set up RGB to YUV conversion");
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * H.264 (OpenH264) in containers that can hold it (FFmpeg builds without libx264 default mp4 to
     * MPEG-4 part 2), else the container's default encoder (VP9 for webm).
     */
    private AVCodec chooseEncoder() {
        if (avformat_query_codec(output.oformat(), AV_CODEC_ID_H264, FF_COMPLIANCE_NORMAL) == 1) {
            AVCodec h264 = avcodec_find_encoder_by_name("libopenh264");
            if (h264 == null) h264 = avcodec_find_encoder(AV_CODEC_ID_H264);
            if (h264 != null) return h264;
        }
        AVCodec codec = avcodec_find_encoder(output.oformat().video_codec());
        if (codec == null) throw new MediaException(target + ": the bundled FFmpeg has no encoder for this container's video codec");
        return codec;
    }

    @Override
    public String codecName() {
        return codecName;
    }

    @Override
    public void write(RgbImage frame) {
        Ffmpeg.check(av_frame_make_writable(rgb), "preparing a frame", target);
        Ffmpeg.check(av_frame_make_writable(yuv), "preparing a frame", target);
        BytePointer data = rgb.data(0);
        int stride = rgb.linesize(0);
        byte[] px = frame.pixels();
        for (int y = 0; y < height; y++) data.position((long) y * stride).put(px, y * width * 3, width * 3);
        data.position(0);
        sws_scale(sws, rgb.data(), rgb.linesize(), 0, height, yuv.data(), yuv.linesize());
        yuv.pts(pts++);
        Ffmpeg.check(avcodec_send_frame(encoder, yuv), "encoding", target);
        drain();
    }

    private void drain() {
        while (true) {
            int r = avcodec_receive_packet(encoder, packet);
            if (r == AVERROR_EAGAIN() || r == AVERROR_EOF()) return;
            Ffmpeg.check(r, "encoding", target);
            av_packet_rescale_ts(packet, encoder.time_base(), stream.time_base());
            packet.stream_index(stream.index());
            Ffmpeg.check(av_interleaved_write_frame(output, packet), "writing", target);
        }
    }

    @Override
    public void finish() {
        Ffmpeg.check(avcodec_send_frame(encoder, null), "flushing the encoder", target);
        drain();
        Ffmpeg.check(av_write_trailer(output), "writing the trailer", target);
        headerWritten = false;
    }

    @Override
    public void close() {
        if (sws != null) sws_freeContext(sws);
        sws = null;
        av_frame_free(rgb);
        av_frame_free(yuv);
        av_packet_free(packet);
        if (encoder != null) avcodec_free_context(encoder);
        encoder = null;
        if (output != null) {
            if (output.pb() != null && !output.pb().isNull()) avio_closep(output.pb());
            avformat_free_context(output);
            output = null;
        }
    }
}
