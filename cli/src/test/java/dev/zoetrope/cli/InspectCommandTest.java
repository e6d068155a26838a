package dev.zoetrope.cli;

import dev.zoetrope.core.Scope;
import dev.zoetrope.core.SafeTensors;
import dev.zoetrope.core.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code zoe inspect} on broken checkpoints: one line on stderr naming the file, a non-zero exit, no trace. */
class InspectCommandTest {
    @TempDir
    Path dir;

    private static ZoeRun zoe(String... args) {
        return ZoeRun.of(args);
    }

    private static void assertOneLineError(ZoeRun run, Path file, String fragment) {
        assertEquals(1, run.exit(), "exit code; stderr: " + run.err());
        run.assertOneLineError(file.toString(), fragment);
    }

    @Test
    void corruptHeaderLength() throws Exception {
        Path bad = dir.resolve("bad.safetensors");
        Files.write(bad, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).array());
        assertOneLineError(zoe("inspect", bad.toString()), bad, "header length");
    }

    @Test
    void truncatedFileNamesTheTensor() throws Exception {
        Path good = dir.resolve("good.safetensors");
        try (Scope s = Scope.open()) {
            SafeTensors.write(good, Map.of("unet.conv_in.weight", Tensor.of(new float[] {1, 2, 3, 4}, 2, 2)), null);
        }
        ZoeRun ok = zoe("inspect", good.toString());
        assertEquals(0, ok.exit(), ok.err());
        assertTrue(ok.out().contains("unet.conv_in.weight") && ok.out().contains("1 tensors"), ok.out());

        byte[] bytes = Files.readAllBytes(good);
        Path cut = dir.resolve("cut.safetensors");
        Files.write(cut, Arrays.copyOf(bytes, bytes.length - 4));
        assertOneLineError(zoe("inspect", cut.toString()), cut, "'unet.conv_in.weight'");
    }

    @Test
    void corruptFileInsideAModelDirectory() throws Exception {
        Path unet = Files.createDirectories(dir.resolve("unet"));
        Path bad = unet.resolve("diffusion_pytorch_model.safetensors");
        byte[] header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}".getBytes(StandardCharsets.UTF_8);
        Files.write(bad, ByteBuffer.allocate(8 + header.length + 8).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(header.length).put(header).array());
        assertOneLineError(zoe("inspect", dir.toString()), bad, "bad shape");
    }

    @Test
    void missingPath() {
        Path absent = dir.resolve("absent");
        assertOneLineError(zoe("inspect", absent.toString()), absent, "no such file");
    }
}
