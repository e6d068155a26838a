package dev.zoetrope.media.video;

import dev.zoetrope.media.Images;
import dev.zoetrope.media.MediaException;
import dev.zoetrope.media.RgbImage;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOInvalidTreeException;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Animated GIF through the JDK's GIF writer (each frame quantised to its own 256-colour palette by
 * ImageIO's octree palette builder), looping forever. GIF delays are whole centiseconds, so frame k ends
 * at round(100·(k+1)/fps) cs: the average rate is exact, single delays may differ by 10 ms.
 */
final class GifSink implements VideoWriter.Sink {
    private static final String FORMAT = "javax_imageio_gif_image_1.0";
    private final Path file;
    private final double fps;
    private final ImageWriter writer;
    private final ImageOutputStream out;
    private int index;

    GifSink(Path file, double fps) {
        this.file = file;
        this.fps = fps;
        this.writer = ImageIO.getImageWritersByFormatName("gif").next();
        try {
            this.out = ImageIO.createImageOutputStream(file.toFile());
            writer.setOutput(out);
            writer.prepareWriteSequence(null);
        } catch (IOException e) {
            writer.dispose();
            throw new MediaException("cannot start GIF " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String codecName() {
        return "gif";
    }

    @Override
    public void write(RgbImage frame) {
        BufferedImage image = Images.toBufferedImage(frame);
        try {
            IIOMetadata metadata = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(image), null);
            metadata.mergeTree(FORMAT, frameTree());
            writer.writeToSequence(new IIOImage(image, null, metadata), null);
            index++;
        } catch (IOException e) {
            throw new MediaException("cannot write GIF frame " + index + " to " + file + ": " + e.getMessage(), e);
        }
    }

    private IIOMetadataNode frameTree() throws IIOInvalidTreeException {
        IIOMetadataNode root = new IIOMetadataNode(FORMAT);
        IIOMetadataNode control = new IIOMetadataNode("GraphicControlExtension");
        long end = Math.round(100.0 * (index + 1) / fps), start = Math.round(100.0 * index / fps);
        control.setAttribute("disposalMethod", "none");
        control.setAttribute("userInputFlag", "FALSE");
        control.setAttribute("transparentColorFlag", "FALSE");
        control.setAttribute("delayTime", Long.toString(Math.max(1, end - start)));
        control.setAttribute("transparentColorIndex", "0");
        root.appendChild(control);
        if (index == 0) {
            IIOMetadataNode apps = new IIOMetadataNode("ApplicationExtensions");
            IIOMetadataNode loop = new IIOMetadataNode("ApplicationExtension");
            loop.setAttribute("applicationID", "NETSCAPE");
            loop.setAttribute("authenticationCode", "2.0");
            loop.setUserObject(new byte[]{1, 0, 0}); // sub-block 1: loop count 0 = forever
            apps.appendChild(loop);
            root.appendChild(apps);
        }
        return root;
    }

    @Override
    public void finish() {
        try {
            writer.endWriteSequence();
            out.flush();
        } catch (IOException e) {
            throw new MediaException("cannot finish GIF " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        writer.dispose();
        try {
            out.close();
        } catch (IOException ignored) {
            // closing after a failure: the file is discarded anyway
        }
    }
}
