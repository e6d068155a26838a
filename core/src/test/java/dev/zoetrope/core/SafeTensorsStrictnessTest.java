package dev.zoetrope.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every way a .safetensors file can be broken is refused with a {@link CheckpointException} that names the
 * file and, where the problem is one tensor's, that tensor. Each bad file is built here byte by byte.
 */
class SafeTensorsStrictnessTest {
    @TempDir
    Path dir;

    /** A file: 8-byte little-endian header length, the header text as UTF-8, then {@code data}. */
    private Path file(String name, String header, int dataBytes) throws IOException {
        return raw(name, header.getBytes(StandardCharsets.UTF_8), dataBytes);
    }

    private Path raw(String name, byte[] header, int dataBytes) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header);
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    /** Opening fails; the message names the file and contains every fragment given. */
    private static CheckpointException refused(Path file, String... fragments) {
        return refusedBy(() -> SafeTensors.open(file).close(), file, fragments);
    }

    private static CheckpointException refusedBy(Executable action, Path file, String... fragments) {
        CheckpointException e = assertThrows(CheckpointException.class, action);
        assertTrue(e.getMessage().contains(file.toString()), "names the file: " + e.getMessage());
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "mentions '" + f + "': " + e.getMessage());
        return e;
    }

    private static final String ONE_F32 = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";

    @Test
    void aWellFormedFileOpens() throws IOException {
        try (SafeTensors st = SafeTensors.open(file("ok.safetensors", ONE_F32, 8))) {
            assertArrayEquals(new int[] {2}, st.info("w").shape());
        }
    }

    // ---------------------------------------------------------------- the 8-byte prefix and the header bytes

    @Test
    void shorterThanTheLengthPrefix() throws IOException {
        Path p = dir.resolve("tiny.safetensors");
        Files.write(p, new byte[] {1, 2, 3});
        refused(p, "3 bytes");
        Path empty = dir.resolve("empty.safetensors");
        Files.write(empty, new byte[0]);
        refused(empty);
    }

    @Test
    void headerLengthPastTheEndOfFile() throws IOException {
        Path p = dir.resolve("past.safetensors");
        ByteBuffer b = ByteBuffer.allocate(8 + 20).order(ByteOrder.LITTLE_ENDIAN).putLong(1000);
        Files.write(p, b.array());
        refused(p, "header length 1000", "28-byte file");
    }

    @Test
    void absurdHeaderLengths() throws IOException {
        for (long len : new long[] {-1L, Long.MIN_VALUE, 100_000_001L, 1L << 40, 0, 1}) {
            Path p = dir.resolve("absurd" + Long.toUnsignedString(len) + ".safetensors");
            Files.write(p, ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN).putLong(len).array());
            refused(p, Long.toUnsignedString(len), "outside 2..100000000");
        }
    }

    @Test
    void headerThatIsNotUtf8() throws IOException {
        byte[] header = ONE_F32.getBytes(StandardCharsets.UTF_8);
        header[3] = (byte) 0xff; // inside the key "w"
        refused(raw("latin.safetensors", header, 8), "not valid UTF-8");
    }

    @Test
    void malformedJson() throws IOException {
        refused(file("cut.safetensors", "{\"w\":{\"dtype\":\"F32\",", 0), "malformed JSON");
        refused(file("array.safetensors", "[1, 2, 3]", 0), "malformed JSON", "object");
        refused(file("trailing.safetensors", ONE_F32 + "x", 8), "malformed JSON");
        refused(file("nul.safetensors", ONE_F32 + "\0\0\0", 8), "malformed JSON");
    }

    @Test
    void duplicateKeys() throws IOException {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        refused(file("dup.safetensors", header, 8), "duplicate key", "\"w\"");
        String dupField = "{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        refused(file("dupfield.safetensors", dupField, 4), "duplicate key", "dtype");
    }

    // ---------------------------------------------------------------- one tensor's entry

    @Test
    void missingOrUnexpectedFieldsNameTheTensor() throws IOException {
        refused(file("nodtype.safetensors", "{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8), "'w'", "missing dtype");
        refused(file("noshape.safetensors", "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8), "'w'", "missing shape");
        refused(file("nooffsets.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8), "'w'", "data_offsets");
        refused(file("extra.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"crc\":1}}", 8),
                "'w'", "unexpected field 'crc'");
        refused(file("notobject.safetensors", "{\"w\":[1,2]}", 0), "'w'", "not an object");
        refused(file("dtypenumber.safetensors", "{\"w\":{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}}", 8), "'w'", "dtype");
        refused(file("meta.safetensors", "{\"__metadata__\":{\"format\":1}}", 0), "__metadata__", "format");
    }

    @Test
    void badShapesNameTheTensor() throws IOException {
        refused(file("neg.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1,2],\"data_offsets\":[0,8]}}", 8), "'w'", "bad shape");
        refused(file("big.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2147483648],\"data_offsets\":[0,8]}}", 8),
                "'w'", "bad shape");
        refused(file("huge.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,8]}}", 8),
                "'w'", "bad shape");
        refused(file("frac.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", 8), "'w'", "bad shape");
        // Each dimension fits an int, the product overflows 64 bits.
        refused(file("product.safetensors",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,8]}}", 8),
                "'w'", "too large");
        // Elements fit 64 bits, bytes do not.
        refused(file("bytes.safetensors",
                "{\"w\":{\"dtype\":\"F64\",\"shape\":[2147483647,2147483647],\"data_offsets\":[0,8]}}", 8),
                "'w'", "too large");
    }

    @Test
    void offsetsOutsideTheDataArea() throws IOException {
        refused(file("end.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8),
                "'w'", "[0, 16]", "8-byte data area");
        refused(file("reversed.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8), "'w'");
        refused(file("negative.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 8), "'w'");
        refused(file("three.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8),
                "'w'", "data_offsets must be [begin, end]");
        refused(file("bigoffset.safetensors",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,99999999999999999999]}}", 8), "'w'");
    }

    @Test
    void truncatedData() throws IOException {
        Path good = dir.resolve("whole.safetensors");
        try (Scope s = Scope.open()) {
            SafeTensors.write(good, Map.of("a", Tensor.of(new float[] {1, 2, 3}, 3), "b", Tensor.of(new float[] {4, 5}, 2)), null);
        }
        byte[] bytes = Files.readAllBytes(good);
        Path cut = dir.resolve("cut.safetensors");
        Files.write(cut, Arrays.copyOf(bytes, bytes.length - 3));
        refused(cut, "'b'", "truncated");
    }

    @Test
    void overlappingTensorsNameBoth() throws IOException {
        String header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        refused(file("overlap.safetensors", header, 12), "'a'", "'b'", "overlap");
        String inside = "{\"outer\":{\"dtype\":\"U8\",\"shape\":[12],\"data_offsets\":[0,12]},"
                + "\"inner\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[4,6]},"
                + "\"after\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[12,13]}}";
        refused(file("inside.safetensors", inside, 13), "'outer'", "'inner'", "overlap");
        // Empty tensors may sit anywhere, even at another tensor's offset.
        String empty = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}";
        try (SafeTensors st = SafeTensors.open(file("empty.safetensors", empty, 8)); Scope s = Scope.open()) {
            assertEquals(0, st.get("e").numel());
        }
    }

    @Test
    void byteLengthMustMatchShapeAndDtype() throws IOException {
        refused(file("short.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8),
                "'w'", "8 bytes", "expected 12");
        refused(file("bf16.safetensors", "{\"w\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 16),
                "'w'", "16 bytes", "expected 8");
    }

    @Test
    void unknownDtypeRefusedAtOpenUnsupportedOneAtGet() throws IOException {
        refused(file("f7.safetensors", "{\"w\":{\"dtype\":\"F7\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8),
                "'w'", "unknown dtype 'F7'");
        Path fp8 = file("fp8.safetensors", "{\"q\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[0,4]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8);
        try (SafeTensors st = SafeTensors.open(fp8); Scope s = Scope.open()) {
            TensorInfo q = st.info("q");
            assertEquals("F8_E4M3", q.dtypeName());
            assertNull(q.dtype());
            assertEquals(4, q.byteLength());
            refusedBy(() -> st.get("q"), fp8, "'q'", "F8_E4M3");
            assertEquals(1, st.get("w").numel());
        }
    }

    @Test
    void missingTensorAndClosedFile() throws IOException {
        Path p = file("ok.safetensors", ONE_F32, 8);
        SafeTensors st = SafeTensors.open(p);
        refusedBy(() -> st.get("nope"), p, "missing tensor 'nope'");
        refusedBy(() -> st.get("w", 3), p, "'w'", "[2]", "[3]");
        st.close();
        refusedBy(() -> st.get("w"), p, "closed");
        st.close(); // idempotent
    }

    @Test
    void directoriesAndMissingFiles() throws IOException {
        refused(dir.resolve("absent.safetensors"), "no such file");
        refusedBy(() -> Weights.open(dir).close(), dir, "no .safetensors file");
        file("one.safetensors", ONE_F32, 8);
        file("two.safetensors", ONE_F32, 8);
        refusedBy(() -> Weights.open(dir).close(), dir, "several .safetensors files");
    }

    // ---------------------------------------------------------------- writing

    @Test
    void writerRoundTripsEveryDtypeAndLayout() throws IOException {
        Path out = dir.resolve("all.safetensors");
        Map<String, Tensor> written = new LinkedHashMap<>();
        try (Scope s = Scope.open()) {
            for (DType t : DType.values()) {
                Tensor x = Tensor.empty(t, 3, 5);
                for (long i = 0; i < x.numel() * t.byteSize(); i++) x.segment().set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) (i * 7 + t.ordinal()));
                written.put("plain." + t, x);
                written.put("transposed." + t, x.transpose(0, 1)); // not contiguous
            }
            written.put("sliced", Tensor.of(new float[] {0, 1, 2, 3, 4, 5, 6, 7}, 2, 4).slice(1, 1, 3));
            written.put("empty", Tensor.empty(DType.F32, 0, 4));
            written.put("scalar", Tensor.of(new float[] {42}));
            SafeTensors.write(out, written, Map.of("format", "pt"));
            // Overwrite in place: the temp file replaces the old one.
            SafeTensors.write(out, written, Map.of("format", "pt"));
            try (SafeTensors st = SafeTensors.open(out)) {
                assertEquals(Map.of("format", "pt"), st.metadata());
                assertEquals(written.keySet(), st.names());
                for (Map.Entry<String, Tensor> e : written.entrySet()) {
                    Tensor back = st.get(e.getKey());
                    Tensor expected = e.getValue().contiguous();
                    assertEquals(expected.dtype(), back.dtype(), e.getKey());
                    assertArrayEquals(expected.shape(), back.shape(), e.getKey());
                    long bytes = expected.numel() * expected.dtype().byteSize();
                    byte[] a = expected.segment().asSlice(expected.offset() * expected.dtype().byteSize(), bytes)
                            .toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                    byte[] b = back.segment().asSlice(back.offset() * back.dtype().byteSize(), bytes)
                            .toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                    assertArrayEquals(a, b, e.getKey());
                }
                assertArrayEquals(new float[] {1, 2, 5, 6}, st.get("sliced").toFloatArray());
                assertArrayEquals(written.get("transposed.F32").toFloatArray(), st.get("transposed.F32").toFloatArray());
            }
        }
        long headerLen = ByteBuffer.wrap(Files.readAllBytes(out), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLen % 8, "header padded to 8 bytes");
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file left behind");
        }
    }

    @Test
    void writerRefusesTheReservedName() {
        try (Scope s = Scope.open()) {
            Path out = dir.resolve("bad.safetensors");
            assertThrows(IllegalArgumentException.class,
                    () -> SafeTensors.write(out, Map.of("__metadata__", Tensor.of(new float[] {1}, 1)), null));
            assertTrue(Files.notExists(out));
        }
    }

    // ---------------------------------------------------------------- sharded checkpoints

    private Path shards() throws IOException {
        try (Scope s = Scope.open()) {
            SafeTensors.write(dir.resolve("model-00001-of-00002.safetensors"),
                    Map.of("a", Tensor.of(new float[] {1, 2}, 2)), null);
            SafeTensors.write(dir.resolve("model-00002-of-00002.safetensors"),
                    Map.of("b", Tensor.of(new float[] {3}, 1), "c", Tensor.of(new float[] {4}, 1)), null);
        }
        return dir.resolve("model.safetensors.index.json");
    }

    private static final String GOOD_INDEX = "{\"metadata\":{\"total_size\":16},\"weight_map\":{"
            + "\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00002-of-00002.safetensors\","
            + "\"c\":\"model-00002-of-00002.safetensors\"}}";

    @Test
    void shardedCheckpointOpensByIndexOrDirectory() throws IOException {
        Path index = shards();
        Files.writeString(index, GOOD_INDEX);
        for (Path p : new Path[] {index, dir}) {
            try (Weights w = Weights.open(p); Scope s = Scope.open()) {
                assertEquals(java.util.Set.of("a", "b", "c"), w.names());
                assertArrayEquals(new float[] {3}, w.get("b").toFloatArray());
                assertEquals(index, w.source());
                refusedBy(() -> w.get("z"), index, "missing tensor 'z'");
            }
        }
    }

    @Test
    void shardedCheckpointProblemsNameIndexShardAndTensor() throws IOException {
        Path index = shards();
        Files.writeString(index, GOOD_INDEX.replace("model-00002-of-00002", "model-00003-of-00003"));
        refusedBy(() -> Weights.open(index).close(), index, "model-00003-of-00003.safetensors", "no such file");

        Files.writeString(index, GOOD_INDEX.replace("\"c\":\"model-00002", "\"c\":\"model-00001"));
        refusedBy(() -> Weights.open(index).close(), index, "'c'", "model-00001-of-00002.safetensors", "does not contain");

        Files.writeString(index, GOOD_INDEX.replace("\"a\":\"model-", "\"a\":\"../model-"));
        refusedBy(() -> Weights.open(index).close(), index, "'a'", "beside the index");

        Files.writeString(index, "{\"metadata\":{}}");
        refusedBy(() -> Weights.open(index).close(), index, "weight_map");

        Files.writeString(index, "{\"weight_map\":{\"a\":");
        refusedBy(() -> Weights.open(index).close(), index, "malformed JSON");

        Files.write(dir.resolve("model-00002-of-00002.safetensors"), new byte[] {1, 2});
        Files.writeString(index, GOOD_INDEX);
        refusedBy(() -> Weights.open(index).close(), index, "model-00002-of-00002.safetensors", "shorter than");
    }
}
