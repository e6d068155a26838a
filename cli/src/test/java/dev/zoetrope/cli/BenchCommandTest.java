package dev.zoetrope.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code zoe bench gemm} is registered and rejects bad options in one line (the benchmark itself is never run here). */
class BenchCommandTest {
    private record Run(int exit, String out, String err) {
    }

    private static Run zoe(String... args) {
        StringWriter err = new StringWriter();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        int exit;
        try (PrintStream capture = new PrintStream(out, true, StandardCharsets.UTF_8)) {
            System.setOut(capture);
            CommandLine cl = Zoe.commandLine();
            cl.setOut(new PrintWriter(capture, true));
            cl.setErr(new PrintWriter(err, true));
            exit = cl.execute(args);
        } finally {
            System.setOut(stdout);
        }
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString());
    }

    @Test
    void helpListsTheGemmBenchmark() {
        Run run = zoe("bench", "--help");
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().contains("gemm"), run.out());
        Run gemm = zoe("bench", "gemm", "--help");
        assertEquals(0, gemm.exit(), gemm.err());
        assertTrue(gemm.out().contains("gemm_ratio_vs_openblas"), gemm.out());
    }

    @Test
    void badOptionsFailInOneLine() {
        for (String[] args : new String[][] {{"bench", "gemm", "--threads", "0"}, {"bench", "gemm", "--repeats", "0"}}) {
            Run run = zoe(args);
            assertEquals(1, run.exit(), "exit code; stderr: " + run.err());
            String[] lines = run.err().strip().split("\\R");
            assertEquals(1, lines.length, "one line on stderr: " + run.err());
            assertTrue(lines[0].contains("must be ≥ 1"), lines[0]);
        }
    }
}
