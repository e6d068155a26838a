package dev.zoetrope.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Bad command lines and bad paths give one line naming the command and the problem, never the usage text or a
 * stack trace: unknown options (with picocli's suggestion), malformed and missing values for every command, an
 * output folder that takes no files (refused before the model loads), a folder given as an image, a folder that
 * is not a model.
 */
class CommandLineErrorsTest {
    @TempDir
    Path tmp;

    @Test
    void unknownOptionsAreOneLineForEveryCommand() {
        // each command with its required arguments, then an option it does not have
        for (List<String> command : List.of(List.of("inspect", "x"), List.of("pull", "org/name"), List.of("txt2img", "-m", "x", "-p", "x"),
                List.of("img2img", "-m", "x", "-p", "x", "--image", "x"), List.of("inpaint", "-m", "x", "-p", "x", "--image", "x", "--mask", "x"),
                List.of("chat"), List.of("bench", "gemm"), List.of("bench", "llm"))) {
            String[] args = new String[command.size() + 1];
            for (int i = 0; i < command.size(); i++) args[i] = command.get(i);
            args[command.size()] = "--bogus";
            ZoeRun run = ZoeRun.of(args);
            assertEquals(2, run.exit(), String.join(" ", command) + ": " + run.err());
            run.assertOneLineError("Unknown option: '--bogus'", "(see zoe " + run.command() + " --help)");
            assertFalse(run.err().contains("Usage:"), run.err());
        }
    }

    @Test
    void malformedAndMissingValuesAreOneLine() {
        ZoeRun.of("txt2img", "-m", "x", "-p", "x", "--stepz", "3").assertOneLineError("'--stepz'", "did you mean --steps?");
        ZoeRun.of("txt2img", "-m", "x", "-p", "x", "--steps", "abc").assertOneLineError("'--steps'", "'abc' is not an int");
        ZoeRun.of("inpaint", "-m", "x", "-p", "x", "--image", "a.png").assertOneLineError("Missing required option", "--mask");
        ZoeRun.of("pull").assertOneLineError("Missing required parameter", "REPO");
        ZoeRun run = ZoeRun.of("bench", "nothing");
        assertEquals(2, run.exit());
        assertEquals(List.of("zoe bench: Unmatched argument at index 1: 'nothing' (see zoe bench --help)"), run.errLines());
    }

    /** A folder nothing can be written into: read-only where permissions apply, else /proc (e.g. when run as root). */
    private Path unwritableFolder() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("read-only"));
        assumeTrue(dir.toFile().setWritable(false, false), "cannot make a read-only folder here");
        try {
            Files.delete(Files.createTempFile(dir, "probe", ".tmp"));
        } catch (IOException e) {
            return dir;   // the permission holds
        }
        Path proc = Path.of("/proc");
        assumeTrue(Files.isDirectory(proc), "no read-only folder available (running as root without /proc)");
        return proc;
    }

    @Test
    void anUnwritableOutputFolderIsRefusedBeforeTheModelLoads() throws IOException {
        Path folder = unwritableFolder();
        Path output = folder.resolve("zoe-test-output.png");
        // the model does not exist: failing on --output proves the check comes first
        ZoeRun run = ZoeRun.of("txt2img", "-m", tmp.resolve("no-such-model").toString(), "-p", "x", "-o", output.toString());
        run.assertOneLineError("--output", "cannot create files in " + folder);
        assertFalse(Files.exists(output));
        try (var left = Files.list(tmp)) {
            assertTrue(left.allMatch(p -> p.getFileName().toString().equals("read-only")), "nothing else written");
        }
    }

    @Test
    void aFolderIsNotAnImageOrAModel() throws IOException {
        Path folder = Files.createDirectories(tmp.resolve("photos"));
        ZoeRun.of("img2img", "-m", "x", "-p", "x", "--image", folder.toString(), "-o", tmp.resolve("o.png").toString())
                .assertOneLineError(folder + " is a folder, not an image file");
        Files.writeString(folder.resolve("notes.txt"), "hello");
        ZoeRun run = ZoeRun.of("inspect", folder.toString());
        assertEquals(1, run.exit());
        run.assertOneLineError(folder.toString(), "not a model directory");
    }
}
