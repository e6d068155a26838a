package dev.zoetrope.cli;

import org.junit.jupiter.api.Test;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code zoe bench gemm} is registered and rejects bad options in one line (the benchmark itself is never run here). */
class BenchCommandTest {
    private static ZoeRun zoe(String... args) {
        return ZoeRun.of(args);
    }

    @Test
    void helpListsTheGemmBenchmark() {
        ZoeRun run = zoe("bench", "--help");
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().contains("gemm"), run.out());
        ZoeRun gemm = zoe("bench", "gemm", "--help");
        assertEquals(0, gemm.exit(), gemm.err());
        assertTrue(gemm.out().contains("gemm_ratio_vs_openblas"), gemm.out());
    }

    @Test
    void badOptionsFailInOneLine() {
        for (String[] args : new String[][] {{"bench", "gemm", "--threads", "0"}, {"bench", "gemm", "--repeats", "0"}}) {
            ZoeRun run = zoe(args);
            assertEquals(1, run.exit(), "exit code; stderr: " + run.err());
            run.assertOneLineError("must be ≥ 1");   // named "zoe bench gemm: ..."
        }
    }
}
