package dev.zoetrope.models.tokenizer;

import dev.zoetrope.core.testing.Fixtures;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The tokenizers engine must run offline: the native library it loads is the CPU build shipped inside DJL's
 * tokenizers jar (extracted to the cache), not a download. Checked by comparing the mapped library file with
 * the jar entry (Linux: the mapping is read from /proc/self/maps).
 */
class NativeLibraryFromJarTest {
    @Test
    void loadedLibraryIsTheOneInTheJar() throws IOException, NoSuchAlgorithmException {
        assumeTrue(Files.isReadable(Path.of("/proc/self/maps")), "needs Linux /proc to see which library is mapped");
        try (ClipTokenizer tokenizer = ClipTokenizer.load(Fixtures.modelDir("sd", "tokenizer").resolve("tokenizer"))) {
            assertEquals(tokenizer.maxLength(), tokenizer.encode("a photograph").ids().length);
        }
        Path loaded = null;
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            int slash = line.indexOf('/');
            if (slash >= 0 && line.endsWith("libtokenizers.so")) loaded = Path.of(line.substring(slash));
        }
        assertNotNull(loaded, "libtokenizers.so is not mapped");
        String arch = switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> System.getProperty("os.arch");
        };
        String entry = "native/lib/linux-" + arch + "/cpu/libtokenizers.so";
        try (InputStream jar = ai.djl.huggingface.tokenizers.HuggingFaceTokenizer.class.getClassLoader().getResourceAsStream(entry)) {
            assertNotNull(jar, "DJL's tokenizers jar has no " + entry);
            assertEquals(sha256(jar.readAllBytes()), sha256(Files.readAllBytes(loaded)), "loaded " + loaded + " is not the jar's " + entry);
        }
    }

    private static String sha256(byte[] bytes) throws NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
