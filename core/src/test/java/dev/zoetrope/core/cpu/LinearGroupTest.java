package dev.zoetrope.core.cpu;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Ops;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * linearGroup against a double-precision reference of the separate linears side by side: the one-pass path
 * (≤ 4 rows; BF16 streamed in place, other dtypes and layouts through GEMM slices) and the per-weight GEMM path,
 * at sizes that are not multiples of the vector blocks; 1 vs 2 threads bit-identical; bad arguments.
 */
class LinearGroupTest {
    private Scope scope;
    private final Random rnd = new Random(29);

    @BeforeEach
    void open() {
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    /** Σ over weights of x · Wᵀ + b in double, rows of x × Σ out. */
    private static double[] reference(Tensor x, List<Tensor> weights, List<Tensor> biases) {
        int in = x.dim(-1), m = (int) (x.numel() / in), total = weights.stream().mapToInt(w -> w.dim(0)).sum();
        double[] xs = TestData.toDouble(x), out = new double[m * total];
        int start = 0;
        for (int g = 0; g < weights.size(); g++) {
            Tensor w = weights.get(g);
            double[] ws = TestData.toDouble(w.contiguous());
            double[] bs = biases == null || biases.get(g) == null ? null : TestData.toDouble(biases.get(g));
            for (int r = 0; r < m; r++) {
                for (int j = 0; j < w.dim(0); j++) {
                    double s = bs == null ? 0 : bs[j];
                    for (int p = 0; p < in; p++) s += xs[r * in + p] * ws[j * in + p];
                    out[r * total + start + j] = s;
                }
            }
            start += w.dim(0);
        }
        return out;
    }

    private void check(String what, Tensor x, List<Tensor> weights, List<Tensor> biases) {
        Tensor y = Ops.linearGroup(x, weights, biases);
        int total = weights.stream().mapToInt(w -> w.dim(0)).sum();
        int[] expectedShape = x.shape();
        expectedShape[expectedShape.length - 1] = total;
        assertArrayEquals(expectedShape, y.shape(), what + " shape");
        double err = TestData.relativeError(y.toFloatArray(), reference(x, weights, biases));
        assertTrue(err <= TestData.TOLERANCE, what + ": relative error " + err);
    }

    private List<Tensor> weights(DType dtype, int in, int... outs) {
        List<Tensor> w = new ArrayList<>();
        for (int out : outs) w.add(TestData.random(rnd, 0.5f, out, in).to(dtype));
        return w;
    }

    @Test
    void bf16GroupsStreamInOnePassForFewRows() {
        for (int in : new int[] {1, 15, 16, 37, 130, 259}) {
            for (int rows = 1; rows <= 4; rows++) {
                Tensor x = TestData.random(rnd, 1f, 1, rows, in);
                List<Tensor> w = weights(DType.BF16, in, 33, 7, 7);
                List<Tensor> b = List.of(TestData.random(rnd, 1f, 33), TestData.random(rnd, 1f, 7).to(DType.BF16),
                        TestData.random(rnd, 1f, 7));
                check("bf16 in=" + in + " rows=" + rows, x, w, b);
                check("bf16 no bias in=" + in + " rows=" + rows, x, w, null);
            }
        }
    }

    @Test
    void otherDtypesLayoutsAndManyRows() {
        Tensor x1 = TestData.random(rnd, 1f, 2, 1, 45);
        check("f32", x1, weights(DType.F32, 45, 9, 20), null);
        check("f16", x1, weights(DType.F16, 45, 9, 20), Arrays.asList(null, TestData.random(rnd, 1f, 20)));
        List<Tensor> transposed = List.of(TestData.transposedLayout(TestData.random(rnd, 0.5f, 12, 45)),
                TestData.random(rnd, 0.5f, 5, 45).to(DType.BF16));
        check("strided weight", x1, transposed, null);
        check("x as a strided view", TestData.transposedLayout(TestData.random(rnd, 1f, 3, 45)),
                weights(DType.BF16, 45, 17, 4), null);
        Tensor many = TestData.random(rnd, 1f, 3, 11, 70);   // 33 rows: one GEMM per weight
        check("gemm path bf16", many, weights(DType.BF16, 70, 30, 9), List.of(TestData.random(rnd, 1f, 30), TestData.random(rnd, 1f, 9)));
        check("gemm path f32", many, weights(DType.F32, 70, 5), null);
    }

    @Test
    void sameResultForOneAndTwoThreads() {
        // large enough that every weight splits into several tasks
        Tensor x = TestData.random(rnd, 1f, 1, 2, 520);
        List<Tensor> bf16 = weights(DType.BF16, 520, 700, 300, 300);
        TestData.assertThreadIndependent("bf16 group", () -> Ops.linearGroup(x, bf16, null));
        List<Tensor> f32 = weights(DType.F32, 520, 400, 130);
        TestData.assertThreadIndependent("f32 group", () -> Ops.linearGroup(x, f32, null));
    }

    @Test
    void badArgumentsAreNamed() {
        Tensor x = TestData.random(rnd, 1f, 1, 8);
        assertThrows(IllegalArgumentException.class, () -> Ops.linearGroup(x, List.of(), null));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Ops.linearGroup(x, List.of(TestData.random(rnd, 1f, 4, 9)), null));
        assertTrue(e.getMessage().contains("linear group"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Ops.linearGroup(x, List.of(TestData.random(rnd, 1f, 4, 8)), List.of()));
        assertThrows(IllegalArgumentException.class,
                () -> Ops.linearGroup(x, List.of(TestData.random(rnd, 1f, 4, 8)), List.of(TestData.random(rnd, 1f, 5))));
    }
}
