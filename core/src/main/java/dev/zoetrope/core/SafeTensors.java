package dev.zoetrope.core;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A memory-mapped {@code .safetensors} file: 8-byte little-endian header length, a JSON header, raw
 * little-endian data. The header is validated strictly before anything is mapped into a tensor: bounded
 * size, well-formed JSON, known dtype names, non-negative shapes, offsets inside the data area and not
 * overlapping, byte length = element count × dtype size. Every problem is a {@link CheckpointException}
 * naming the file and the tensor.
 */
public final class SafeTensors implements Weights {
    /** The format's own bound on the header (100 MB, as the reference implementation). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    private final Path file;
    private final Arena arena;
    private final MemorySegment data;
    private final Map<String, TensorInfo> entries;
    private final Map<String, String> metadata;

    private SafeTensors(Path file, Arena arena, MemorySegment data, Map<String, TensorInfo> entries,
                        Map<String, String> metadata) {
        this.file = file;
        this.arena = arena;
        this.data = data;
        this.entries = entries;
        this.metadata = metadata;
    }

    /** Byte size of a safetensors dtype name (including ones Zoetrope does not compute with), or -1. */
    static int formatDtypeSize(String name) {
        DType t = DType.fromSafetensors(name);
        if (t != null) return t.byteSize();
        return switch (name) {
            case "U16" -> 2;
            case "U32" -> 4;
            case "U64" -> 8;
            case "F8_E4M3", "F8_E5M2", "F8_E8M0" -> 1;
            case "C64" -> 8;
            default -> -1;
        };
    }

    public static SafeTensors open(Path file) {
        long size;
        try {
            size = Files.size(file);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file + ": no such file");
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        if (Files.isDirectory(file)) throw new CheckpointException(file + ": is a directory, expected a .safetensors file");
        if (size < 8) {
            throw new CheckpointException(file + ": not a safetensors file (" + size + " bytes, shorter than the 8-byte header length)");
        }
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, lenBuf, 0, file);
            long headerLen = lenBuf.getLong(0);
            if (headerLen < 2 || headerLen > MAX_HEADER_BYTES) {
                throw new CheckpointException(file + ": header length " + Long.toUnsignedString(headerLen)
                        + " is outside 2.." + MAX_HEADER_BYTES + " (not a safetensors file, or corrupt)");
            }
            if (8 + headerLen > size) {
                throw new CheckpointException(file + ": header length " + headerLen + " runs past the end of the "
                        + size + "-byte file (truncated?)");
            }
            ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
            readFully(channel, headerBuf, 8, file);
            String headerText;
            try {
                headerText = StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .decode(headerBuf.flip()).toString();
            } catch (CharacterCodingException e) {
                throw new CheckpointException(file + ": header is not valid UTF-8");
            }
            long dataStart = 8 + headerLen;
            long dataSize = size - dataStart;
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, TensorInfo> entries = parseHeader(file, headerText, dataSize, metadata);
            MemorySegment mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            MemorySegment data = mapped.asSlice(dataStart, dataSize);
            return new SafeTensors(file, arena, data, entries, Collections.unmodifiableMap(metadata));
        } catch (CheckpointException e) {
            arena.close();
            throw e;
        } catch (IOException e) {
            arena.close();
            throw new CheckpointException(file + ": cannot read (" + e.getMessage() + ")", e);
        } catch (RuntimeException e) {
            arena.close();
            throw new CheckpointException(file + ": " + e.getMessage(), e);
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer buf, long position, Path file) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int n = channel.read(buf, pos);
            if (n < 0) throw new CheckpointException(file + ": unexpected end of file (truncated?)");
            pos += n;
        }
    }

    /** Parses and validates a header; package-visible for tests of the validation rules. */
    static Map<String, TensorInfo> parseHeader(Path file, String headerText, long dataSize, Map<String, String> metadataOut) {
        Map<String, Object> header;
        try {
            header = Json.parseObject(headerText);
        } catch (Json.JsonException e) {
            throw new CheckpointException(file + ": malformed JSON header: " + e.getMessage());
        }
        Map<String, TensorInfo> entries = new TreeMap<>();
        for (Map.Entry<String, Object> e : header.entrySet()) {
            String name = e.getKey();
            if (name.equals("__metadata__")) {
                if (!(e.getValue() instanceof Map<?, ?> meta)) {
                    throw new CheckpointException(file + ": __metadata__ must be an object of strings");
                }
                for (Map.Entry<?, ?> m : meta.entrySet()) {
                    if (!(m.getValue() instanceof String v)) {
                        throw new CheckpointException(file + ": __metadata__ value for '" + m.getKey() + "' is not a string");
                    }
                    metadataOut.put((String) m.getKey(), v);
                }
                continue;
            }
            String where = file + ": tensor '" + name + "'";
            if (!(e.getValue() instanceof Map<?, ?> entry)) throw new CheckpointException(where + ": entry is not an object");
            if (!(entry.get("dtype") instanceof String dtypeName)) throw new CheckpointException(where + ": missing dtype");
            int elemSize = formatDtypeSize(dtypeName);
            if (elemSize < 0) throw new CheckpointException(where + ": unknown dtype '" + dtypeName + "'");
            if (!(entry.get("shape") instanceof List<?> shapeList)) throw new CheckpointException(where + ": missing shape");
            int[] shape = new int[shapeList.size()];
            long numel = 1;
            for (int i = 0; i < shape.length; i++) {
                if (!(shapeList.get(i) instanceof Long d) || d < 0 || d > Integer.MAX_VALUE) {
                    throw new CheckpointException(where + ": bad shape " + shapeList
                            + " (dimensions must be integers in 0.." + Integer.MAX_VALUE + ")");
                }
                shape[i] = (int) (long) d;
                numel = multiplyOrFail(numel, d, where, shapeList);
            }
            if (!(entry.get("data_offsets") instanceof List<?> offs) || offs.size() != 2
                    || !(offs.get(0) instanceof Long begin) || !(offs.get(1) instanceof Long end)) {
                throw new CheckpointException(where + ": data_offsets must be [begin, end]");
            }
            if (begin < 0 || end < begin || end > dataSize) {
                throw new CheckpointException(where + ": data_offsets [" + begin + ", " + end + "] fall outside the "
                        + dataSize + "-byte data area (truncated or corrupt file)");
            }
            long expected = multiplyOrFail(numel, elemSize, where, shapeList);
            if (end - begin != expected) {
                throw new CheckpointException(where + ": " + (end - begin) + " bytes for shape " + shapeList + " of "
                        + dtypeName + ", expected " + expected);
            }
            for (Object key : entry.keySet()) {
                if (!key.equals("dtype") && !key.equals("shape") && !key.equals("data_offsets")) {
                    throw new CheckpointException(where + ": unexpected field '" + key + "'");
                }
            }
            entries.put(name, new TensorInfo(name, dtypeName, DType.fromSafetensors(dtypeName), shape, begin, end));
        }
        List<TensorInfo> byOffset = new ArrayList<>(entries.values());
        byOffset.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        TensorInfo previous = null;
        for (TensorInfo t : byOffset) {
            if (t.byteLength() == 0) continue;
            if (previous != null && t.begin() < previous.end()) {
                throw new CheckpointException(file + ": tensors '" + previous.name() + "' and '" + t.name()
                        + "' overlap in the data area");
            }
            previous = t;
        }
        return Collections.unmodifiableMap(entries);
    }

    /** a·b, or an error naming the tensor whose shape overflows 64-bit byte counts. */
    private static long multiplyOrFail(long a, long b, String where, List<?> shape) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            throw new CheckpointException(where + ": shape " + shape + " is too large (element or byte count overflows 64 bits)");
        }
    }

    @Override
    public Set<String> names() {
        return new TreeSet<>(entries.keySet());
    }

    @Override
    public TensorInfo info(String name) {
        return entries.get(name);
    }

    public Map<String, TensorInfo> entries() {
        return entries;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public Path source() {
        return file;
    }

    @Override
    public Tensor get(String name) {
        TensorInfo info = entries.get(name);
        if (info == null) throw new CheckpointException(file + ": missing tensor '" + name + "'");
        if (info.dtype() == null) {
            throw new CheckpointException(file + ": tensor '" + name + "' has dtype " + info.dtypeName()
                    + ", which Zoetrope does not support (supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)");
        }
        if (!arena.scope().isAlive()) throw new CheckpointException(file + ": closed");
        MemorySegment slice = data.asSlice(info.begin(), info.byteLength());
        return Tensor.wrap(Storage.borrowed(slice, file.getFileName() + ":" + name), info.dtype(), info.shape(), 0);
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
    }

    // ------------------------------------------------------------------ opening sharded sets and directories

    static Weights openAny(Path path) {
        if (Files.isDirectory(path)) {
            List<Path> indexes = new ArrayList<>();
            List<Path> files = new ArrayList<>();
            try (var stream = Files.list(path)) {
                for (Path p : (Iterable<Path>) stream::iterator) {
                    String n = p.getFileName().toString();
                    if (n.endsWith(".safetensors.index.json")) indexes.add(p);
                    else if (n.endsWith(".safetensors")) files.add(p);
                }
            } catch (IOException e) {
                throw new CheckpointException(path + ": cannot list (" + e.getMessage() + ")", e);
            }
            Collections.sort(indexes);
            Collections.sort(files);
            if (indexes.size() == 1) return Sharded.open(indexes.get(0));
            if (indexes.size() > 1) throw new CheckpointException(path + ": several *.safetensors.index.json files " + indexes);
            if (files.size() == 1) return open(files.get(0));
            if (files.isEmpty()) throw new CheckpointException(path + ": no .safetensors file in this directory");
            throw new CheckpointException(path + ": several .safetensors files and no index: " + files);
        }
        if (path.getFileName().toString().endsWith(".index.json")) return Sharded.open(path);
        return open(path);
    }

    /** A sharded checkpoint: {@code weight_map} from the index file, shards opened on first use. */
    static final class Sharded implements Weights {
        private final Path index;
        private final Map<String, String> weightMap;
        private final Map<String, SafeTensors> shards = new LinkedHashMap<>();

        private Sharded(Path index, Map<String, String> weightMap) {
            this.index = index;
            this.weightMap = weightMap;
        }

        static Sharded open(Path index) {
            Map<String, Object> json;
            try {
                json = Json.parseObject(Files.readString(index));
            } catch (IOException e) {
                throw new CheckpointException(index + ": cannot read (" + e.getMessage() + ")", e);
            } catch (Json.JsonException e) {
                throw new CheckpointException(index + ": malformed JSON: " + e.getMessage());
            }
            if (!(json.get("weight_map") instanceof Map<?, ?> map)) {
                throw new CheckpointException(index + ": no \"weight_map\" object");
            }
            Map<String, String> weightMap = new TreeMap<>();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (!(e.getValue() instanceof String f) || f.contains("/") || f.contains("\\")) {
                    throw new CheckpointException(index + ": weight_map entry '" + e.getKey() + "' must name a file beside the index");
                }
                weightMap.put((String) e.getKey(), f);
            }
            Sharded sharded = new Sharded(index, weightMap);
            // Open every shard now so that a missing or corrupt one is reported at load time.
            for (String f : new TreeSet<>(weightMap.values())) sharded.shard(f);
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                if (sharded.shard(e.getValue()).info(e.getKey()) == null) {
                    sharded.close();
                    throw new CheckpointException(index + ": tensor '" + e.getKey() + "' is mapped to " + e.getValue()
                            + " but that shard does not contain it");
                }
            }
            return sharded;
        }

        private synchronized SafeTensors shard(String fileName) {
            SafeTensors s = shards.get(fileName);
            if (s == null) {
                try {
                    s = SafeTensors.open(index.resolveSibling(fileName));
                } catch (CheckpointException e) {
                    close();
                    throw new CheckpointException(index + ": shard '" + fileName + "' named in weight_map cannot be used: "
                            + e.getMessage(), e);
                }
                shards.put(fileName, s);
            }
            return s;
        }

        @Override
        public Set<String> names() {
            return new TreeSet<>(weightMap.keySet());
        }

        @Override
        public TensorInfo info(String name) {
            String f = weightMap.get(name);
            return f == null ? null : shard(f).info(name);
        }

        @Override
        public Tensor get(String name) {
            String f = weightMap.get(name);
            if (f == null) throw new CheckpointException(index + ": missing tensor '" + name + "'");
            return shard(f).get(name);
        }

        @Override
        public Path source() {
            return index;
        }

        @Override
        public synchronized void close() {
            for (SafeTensors s : shards.values()) s.close();
            shards.clear();
        }
    }

    // ------------------------------------------------------------------ writing

    /**
     * Writes tensors (any dtype Zoetrope has, any layout) to {@code file} atomically: a temporary file in the
     * same directory is written, forced to disk and then moved over the target, so a reader never sees a
     * half-written file. Tensors are stored in name order, header padded with spaces to 8 bytes.
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) header.put("__metadata__", new LinkedHashMap<>(metadata));
        if (tensors.containsKey("__metadata__")) {
            throw new IllegalArgumentException(file + ": '__metadata__' is reserved by the format and cannot name a tensor");
        }
        Map<String, Tensor> sorted = new TreeMap<>(tensors);
        long offset = 0;
        for (Map.Entry<String, Tensor> e : sorted.entrySet()) {
            Tensor t = e.getValue();
            long bytes = t.numel() * t.dtype().byteSize();
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("dtype", t.dtype().safetensorsName());
            List<Object> shape = new ArrayList<>();
            for (int d : t.shape()) shape.add((long) d);
            entry.put("shape", shape);
            entry.put("data_offsets", List.of(offset, offset + bytes));
            header.put(e.getKey(), entry);
            offset += bytes;
        }
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer prefix = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        prefix.putLong(padded).put(json);
        while (prefix.hasRemaining()) prefix.put((byte) ' ');
        prefix.flip();
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".part");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                while (prefix.hasRemaining()) ch.write(prefix);
                for (Tensor t : sorted.values()) {
                    Tensor c = t.contiguous();
                    long bytes = c.numel() * c.dtype().byteSize();
                    MemorySegment src = c.segment().asSlice(c.offset() * c.dtype().byteSize(), bytes);
                    // MemorySegment data is little-endian on every platform Zoetrope runs on (x86-64, aarch64).
                    ByteBuffer buf = src.asByteBuffer();
                    while (buf.hasRemaining()) ch.write(buf);
                }
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    static {
        if (ValueLayout.JAVA_INT.order() != ByteOrder.LITTLE_ENDIAN) {
            throw new ExceptionInInitializerError("Zoetrope needs a little-endian platform");
        }
    }
}
