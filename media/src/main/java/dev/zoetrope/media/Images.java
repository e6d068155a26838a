package dev.zoetrope.media;

import org.w3c.dom.NamedNodeMap;
import org.w3c.dom.Node;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.ImageOutputStream;
import java.awt.Point;
import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.DirectColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.PixelInterleavedSampleModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Image files in and out. Reading gives what {@code PIL.Image.open(path).convert("RGB")} gives: alpha is
 * dropped (not composited), grey is replicated, palettes are looked up, and 16-bit PNGs follow Pillow's
 * modes (16-bit RGB/RGBA and grey+alpha keep the high byte; 16-bit grey is mode "I;16", whose RGB conversion
 * clips values above 255). PNG, JPEG, BMP and GIF (first frame) come from the JDK's ImageIO, WebP from the
 * TwelveMonkeys plugin. A GIF's first frame is placed on its logical screen as Pillow does. EXIF
 * orientation is ignored, as {@code Image.open} does.
 *
 * <p>Writing makes PNGs carrying the generation settings in a text chunk with key {@value #PARAMETERS_KEY}
 * (what AUTOMATIC1111 and ComfyUI read), written atomically.
 */
public final class Images {
    /** The PNG text key under which A1111-style tools store generation settings. */
    public static final String PARAMETERS_KEY = "parameters";
    private static final String PNG_FORMAT = "javax_imageio_png_1.0";

    private Images() {
    }

    /** Reads an image file as 8-bit RGB; a {@link MediaException} naming the file if it cannot. */
    public static RgbImage read(Path path) {
        if (Files.isDirectory(path)) throw new MediaException(path + " is a folder, not an image file");
        if (!Files.isRegularFile(path)) throw new MediaException("image file not found: " + path);
        String format = "image";
        try (ImageInputStream in = ImageIO.createImageInputStream(path.toFile())) {
            if (in == null) throw new MediaException("cannot open image file " + path);
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new MediaException(path + ": not a readable image (supported: PNG, JPEG, BMP, GIF, WebP)");
            }
            ImageReader reader = readers.next();
            format = reader.getFormatName().toUpperCase(java.util.Locale.ROOT);
            try {
                reader.setInput(in, true, false);
                BufferedImage decoded = reader.read(0);
                RgbImage rgb = toRgb(decoded, path);
                return "GIF".equals(format) ? onGifScreen(reader, decoded, rgb) : rgb;
            } finally {
                reader.dispose();
            }
        } catch (MediaException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            String hint = "JPEG".equals(format) && String.valueOf(e.getMessage()).contains("Unsupported Image Type")
                    ? " (CMYK/YCCK JPEGs are not supported)" : "";
            throw new MediaException(path + ": cannot decode " + format + " data: " + e.getMessage() + hint, e);
        }
    }

    /**
     * Pillow shows a GIF's first frame on the logical screen (grown to the frame if the frame sticks out):
     * the frame at its offset, the rest filled with palette index "transparent" if the frame has one, else 0.
     * ImageIO returns the bare frame.
     */
    private static RgbImage onGifScreen(ImageReader reader, BufferedImage decoded, RgbImage frame) throws IOException {
        Node screen = child(reader.getStreamMetadata().getAsTree("javax_imageio_gif_stream_1.0"), "LogicalScreenDescriptor");
        Node image = reader.getImageMetadata(0).getAsTree("javax_imageio_gif_image_1.0");
        Node descriptor = child(image, "ImageDescriptor");
        int left = intAttr(descriptor, "imageLeftPosition"), top = intAttr(descriptor, "imageTopPosition");
        int width = Math.max(intAttr(screen, "logicalScreenWidth"), left + frame.width());
        int height = Math.max(intAttr(screen, "logicalScreenHeight"), top + frame.height());
        if (left == 0 && top == 0 && width == frame.width() && height == frame.height()) return frame;
        Node control = child(image, "GraphicControlExtension");
        int fill = control != null && "TRUE".equals(attr(control.getAttributes(), "transparentColorFlag"))
                ? intAttr(control, "transparentColorIndex") : 0;
        byte[] px = new byte[width * height * 3];
        if (decoded.getColorModel() instanceof IndexColorModel icm && fill < icm.getMapSize()) {
            for (int p = 0; p < width * height; p++) {
                px[p * 3] = (byte) icm.getRed(fill);
                px[p * 3 + 1] = (byte) icm.getGreen(fill);
                px[p * 3 + 2] = (byte) icm.getBlue(fill);
            }
        }
        for (int y = 0; y < frame.height(); y++) {
            System.arraycopy(frame.pixels(), y * frame.width() * 3, px, ((top + y) * width + left) * 3, frame.width() * 3);
        }
        return new RgbImage(width, height, px);
    }

    private static Node child(Node parent, String name) {
        for (Node c = parent == null ? null : parent.getFirstChild(); c != null; c = c.getNextSibling()) {
            if (name.equals(c.getNodeName())) return c;
        }
        return null;
    }

    private static int intAttr(Node node, String name) {
        String v = node == null ? "" : attr(node.getAttributes(), name);
        return v.isEmpty() ? 0 : Integer.parseInt(v);
    }

    /** Converts a decoded ImageIO image to RGB with Pillow's {@code convert("RGB")} rules. */
    static RgbImage toRgb(BufferedImage image, Path source) {
        int w = image.getWidth(), h = image.getHeight();
        ColorModel cm = image.getColorModel();
        Raster raster = image.getRaster();
        byte[] out = new byte[w * h * 3];
        if (cm instanceof IndexColorModel icm) {
            // Palette (and 1/2/4-bit grey, which ImageIO also maps through an evenly spaced palette, as
            // Pillow's "L;2"/"L;4" expansion and "1" → RGB do).
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                raster.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    int i = (y * w + x) * 3, idx = row[x];
                    out[i] = (byte) icm.getRed(idx);
                    out[i + 1] = (byte) icm.getGreen(idx);
                    out[i + 2] = (byte) icm.getBlue(idx);
                }
            }
            return new RgbImage(w, h, out);
        }
        if (cm instanceof ComponentColorModel && (cm.getColorSpace().getType() == ColorSpace.TYPE_RGB
                || cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY)) {
            int colours = cm.getNumColorComponents();
            int bands = raster.getNumBands();
            int transfer = raster.getTransferType();
            boolean wide = transfer == DataBuffer.TYPE_USHORT;
            if (transfer != DataBuffer.TYPE_BYTE && !wide) {
                throw new MediaException(source + ": unsupported sample type " + transfer + " in image data");
            }
            // 16-bit grey without alpha is Pillow's "I;16", converted by clipping; everything else 16-bit
            // is unpacked by Pillow keeping the high byte.
            boolean clipGrey16 = wide && colours == 1 && !cm.hasAlpha();
            int[] row = new int[w * bands];
            for (int y = 0; y < h; y++) {
                raster.getPixels(0, y, w, 1, row);
                for (int x = 0; x < w; x++) {
                    int i = (y * w + x) * 3, s = x * bands;
                    for (int c = 0; c < 3; c++) {
                        int v = row[s + (colours == 1 ? 0 : c)];
                        if (wide) v = clipGrey16 ? Math.min(v, 255) : v >>> 8;
                        out[i + c] = (byte) v;
                    }
                }
            }
            return new RgbImage(w, h, out);
        }
        if (cm instanceof DirectColorModel dcm && dcm.getTransferType() == DataBuffer.TYPE_INT) {
            Object pixel = null;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    pixel = raster.getDataElements(x, y, pixel);
                    int p = ((int[]) pixel)[0];
                    int i = (y * w + x) * 3;
                    out[i] = (byte) dcm.getRed(p);
                    out[i + 1] = (byte) dcm.getGreen(p);
                    out[i + 2] = (byte) dcm.getBlue(p);
                }
            }
            return new RgbImage(w, h, out);
        }
        // Anything else (other colour spaces, packed 16-bit BMPs): let Java2D convert to sRGB.
        int[] argb = image.getRGB(0, 0, w, h, null, 0, w);
        for (int p = 0; p < argb.length; p++) {
            out[p * 3] = (byte) (argb[p] >> 16);
            out[p * 3 + 1] = (byte) (argb[p] >> 8);
            out[p * 3 + 2] = (byte) argb[p];
        }
        return new RgbImage(w, h, out);
    }

    /** The image as a Java2D image sharing its bytes (8-bit sRGB, bands R, G, B). */
    public static BufferedImage toBufferedImage(RgbImage image) {
        int w = image.width(), h = image.height();
        DataBufferByte buffer = new DataBufferByte(image.pixels(), image.pixels().length);
        PixelInterleavedSampleModel model = new PixelInterleavedSampleModel(DataBuffer.TYPE_BYTE, w, h, 3, w * 3, new int[]{0, 1, 2});
        WritableRaster raster = Raster.createWritableRaster(model, buffer, new Point(0, 0));
        ColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_sRGB), new int[]{8, 8, 8}, false, false,
                Transparency.OPAQUE, DataBuffer.TYPE_BYTE);
        return new BufferedImage(cm, raster, false, null);
    }

    /** Writes a PNG without text chunks (atomically). */
    public static void writePng(RgbImage image, Path path) {
        writePng(image, path, Map.of());
    }

    /** Writes a PNG whose {@value #PARAMETERS_KEY} text chunk holds {@code parameters} (atomically). */
    public static void writePng(RgbImage image, Path path, String parameters) {
        writePng(image, path, Map.of(PARAMETERS_KEY, parameters));
    }

    /**
     * Writes a PNG with the given text chunks, atomically (temporary file in the same directory, then a
     * rename). Like Pillow's {@code PngInfo.add_text}, a value that fits Latin-1 goes in a tEXt chunk,
     * any other in an uncompressed UTF-8 iTXt chunk.
     */
    public static void writePng(RgbImage image, Path path, Map<String, String> text) {
        for (String key : text.keySet()) {
            if (key.isEmpty() || key.length() > 79 || !StandardCharsets.ISO_8859_1.newEncoder().canEncode(key)) {
                throw new IllegalArgumentException("PNG text key must be 1-79 Latin-1 characters: \"" + key + "\"");
            }
        }
        BufferedImage buffered = toBufferedImage(image);
        try {
            AtomicFiles.write(path, tmp -> {
                ImageWriter writer = ImageIO.getImageWritersByFormatName("png").next();
                try (ImageOutputStream out = ImageIO.createImageOutputStream(tmp.toFile())) {
                    IIOMetadata metadata = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(buffered), null);
                    if (!text.isEmpty()) metadata.mergeTree(PNG_FORMAT, textTree(text));
                    writer.setOutput(out);
                    writer.write(null, new IIOImage(buffered, null, metadata), null);
                } finally {
                    writer.dispose();
                }
            });
        } catch (IOException e) {
            throw new MediaException("cannot write PNG " + path + ": " + e.getMessage(), e);
        }
    }

    private static IIOMetadataNode textTree(Map<String, String> text) {
        IIOMetadataNode root = new IIOMetadataNode(PNG_FORMAT);
        IIOMetadataNode latin = new IIOMetadataNode("tEXt");
        IIOMetadataNode international = new IIOMetadataNode("iTXt");
        for (Map.Entry<String, String> e : text.entrySet()) {
            if (StandardCharsets.ISO_8859_1.newEncoder().canEncode(e.getValue())) {
                IIOMetadataNode entry = new IIOMetadataNode("tEXtEntry");
                entry.setAttribute("keyword", e.getKey());
                entry.setAttribute("value", e.getValue());
                latin.appendChild(entry);
            } else {
                IIOMetadataNode entry = new IIOMetadataNode("iTXtEntry");
                entry.setAttribute("keyword", e.getKey());
                entry.setAttribute("compressionFlag", "FALSE");
                entry.setAttribute("compressionMethod", "0");
                entry.setAttribute("languageTag", "");
                entry.setAttribute("translatedKeyword", "");
                entry.setAttribute("text", e.getValue());
                international.appendChild(entry);
            }
        }
        if (latin.getLength() > 0) root.appendChild(latin);
        if (international.getLength() > 0) root.appendChild(international);
        return root;
    }

    /** The text chunks (tEXt, zTXt, iTXt) of a PNG file, in file order. */
    public static Map<String, String> readPngText(Path path) {
        if (Files.isDirectory(path)) throw new MediaException(path + " is a folder, not an image file");
        if (!Files.isRegularFile(path)) throw new MediaException("image file not found: " + path);
        try (ImageInputStream in = ImageIO.createImageInputStream(path.toFile())) {
            Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName("png");
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, false);
                IIOMetadata metadata = reader.getImageMetadata(0);
                Map<String, String> out = new LinkedHashMap<>();
                collectText(metadata.getAsTree(PNG_FORMAT), out);
                return out;
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            throw new MediaException(path + ": cannot read PNG text chunks: " + e.getMessage(), e);
        }
    }

    private static void collectText(Node node, Map<String, String> out) {
        for (Node child = node.getFirstChild(); child != null; child = child.getNextSibling()) {
            NamedNodeMap attrs = child.getAttributes();
            switch (child.getNodeName()) {
                case "tEXtEntry" -> out.put(attr(attrs, "keyword"), attr(attrs, "value"));
                case "zTXtEntry", "iTXtEntry" -> out.put(attr(attrs, "keyword"), attr(attrs, "text"));
                default -> collectText(child, out);
            }
        }
    }

    private static String attr(NamedNodeMap attrs, String name) {
        Node n = attrs == null ? null : attrs.getNamedItem(name);
        return n == null ? "" : n.getNodeValue();
    }
}
