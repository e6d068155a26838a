package dev.zoetrope.core.cpu;

import dev.zoetrope.core.Backend.Binary;
import dev.zoetrope.core.Backend.Unary;
import dev.zoetrope.core.DType;
import dev.zoetrope.core.Ops;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;

import static dev.zoetrope.core.cpu.TestData.assertNear;
import static dev.zoetrope.core.cpu.TestData.at;
import static dev.zoetrope.core.cpu.TestData.unravel;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Binary, unary and affine ops against double-precision references, across broadcasting and strided layouts. */
class ElementwiseTest {
    private Scope scope;
    private final Random rnd = new Random(42);

    @BeforeEach
    void open() {
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    /** Shape pairs covering the layouts the kernel special-cases and the general strided walk. */
    private static final int[][][] BROADCASTS = {
            {{3, 37, 13}, {3, 37, 13}},        // same shape
            {{2, 5, 77}, {77}},                // bias along the last dim
            {{2, 7, 9, 11}, {1, 7, 1, 1}},     // channel broadcast on NCHW
            {{2, 7, 9, 11}, {2, 7, 1, 1}},     // per-sample channel (time embedding)
            {{4, 1, 19}, {1, 6, 1}},           // both broadcast (outer product)
            {{1}, {5, 3}},                     // scalar on the left
            {{6, 1, 33}, {1}},                 // scalar on the right
            {{1, 1, 5}, {3, 1, 5}},            // size-1 dims everywhere
            {{257}, {257}},                    // one long row, not a multiple of the vector length
    };

    private static final Binary[] BINARIES = Binary.values();

    private static double reference(Binary op, double x, double y) {
        return switch (op) {
            case ADD -> x + y;
            case SUB -> x - y;
            case MUL -> x * y;
            case DIV -> x / y;
            case MAX -> Math.max(x, y);
            case MIN -> Math.min(x, y);
        };
    }

    private static double[] referenceBinary(DoubleBinaryOperator f, double[] a, int[] as, double[] b, int[] bs, int[] out) {
        double[] r = new double[(int) Tensor.numel(out)];
        for (int i = 0; i < r.length; i++) {
            int[] idx = unravel(i, out);
            r[i] = f.applyAsDouble(at(a, as, idx), at(b, bs, idx));
        }
        return r;
    }

    @Test
    void binaryOpsBroadcastLikeTorch() {
        for (int[][] pair : BROADCASTS) {
            Tensor a = TestData.random(rnd, 3f, pair[0]);
            Tensor b = TestData.random(rnd, 3f, pair[1]);
            int[] out = Elementwise.broadcastShape(pair[0], pair[1]);
            for (Binary op : BINARIES) {
                double[] ref = referenceBinary((x, y) -> reference(op, x, y), a.toDoubleArray(), pair[0],
                        b.toDoubleArray(), pair[1], out);
                String what = op + " " + java.util.Arrays.deepToString(pair);
                assertNear(what, Ops.backend().binary(op, a, b), out, ref);
                // the same values in strided layouts: large inner strides, and an offset window with padding
                assertNear(what + " transposed", Ops.backend().binary(op, TestData.transposedLayout(a), b), out, ref);
                assertNear(what + " sliced", Ops.backend().binary(op, a, TestData.slicedLayout(b)), out, ref);
            }
        }
    }

    @Test
    void binaryAcceptsExpandedAndHalfPrecisionOperands() {
        Tensor a = TestData.random(rnd, 2f, 3, 1, 10);
        Tensor expanded = a.expand(3, 4, 10); // stride 0 on dim 1
        Tensor b = TestData.random(rnd, 2f, 4, 10).to(DType.BF16);
        double[] bd = b.toDoubleArray(); // the bf16-rounded values are the operand
        double[] ref = referenceBinary((x, y) -> x * y, a.toDoubleArray(), new int[] {3, 1, 10}, bd, new int[] {4, 10},
                new int[] {3, 4, 10});
        assertNear("mul expanded × bf16", Ops.mul(expanded, b), new int[] {3, 4, 10}, ref);
        Tensor c = TestData.random(rnd, 2f, 3, 4, 10).to(DType.F16);
        ref = referenceBinary(Double::sum, c.toDoubleArray(), new int[] {3, 4, 10}, a.toDoubleArray(), new int[] {3, 1, 10},
                new int[] {3, 4, 10});
        assertNear("add f16 + broadcast", Ops.add(c, a), new int[] {3, 4, 10}, ref);
    }

    @Test
    void binaryRejectsShapesThatDoNotBroadcast() {
        Tensor a = Tensor.zeros(DType.F32, 2, 3), b = Tensor.zeros(DType.F32, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ops.add(a, b));
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[4]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Ops.add(a, Tensor.ofLongs(new long[] {1, 2, 3}, 3)));
    }

    @Test
    void binaryPropagatesNaNThroughMaxAndMin() {
        Tensor a = Tensor.of(new float[] {Float.NaN, 1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, Float.NaN}, 10);
        Tensor b = Tensor.full(0f, 10);
        float[] max = Ops.maximum(a, b).toFloatArray(), min = Ops.minimum(a, b).toFloatArray();
        assertTrue(Float.isNaN(max[0]) && Float.isNaN(max[9]) && Float.isNaN(min[0]) && Float.isNaN(min[9]));
        assertEquals(5f, max[5]);
        assertEquals(0f, min[5]);
    }

    // ---------------------------------------------------------------- unary

    private static DoubleUnaryOperator reference(Unary op) {
        return switch (op) {
            case NEG -> v -> -v;
            case EXP -> Math::exp;
            case LOG -> Math::log;
            case SQRT -> Math::sqrt;
            case RSQRT -> v -> 1 / Math.sqrt(v);
            case TANH -> Math::tanh;
            case SIGMOID -> v -> 1 / (1 + Math.exp(-v));
            case SILU -> v -> v / (1 + Math.exp(-v));
            case GELU_ERF -> ReferenceMath::gelu;
            // ½x(1 + tanh(u)) written as x·sigmoid(2u) so the double reference keeps the negative tail
            case GELU_TANH -> v -> v / (1 + Math.exp(-2 * Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
            case QUICK_GELU -> v -> v / (1 + Math.exp(-1.702 * v));
            case RELU -> v -> Math.max(v, 0);
            case SIN -> Math::sin;
            case COS -> Math::cos;
            case ABS -> Math::abs;
            case SQUARE -> v -> v * v;
        };
    }

    private static boolean positiveOnly(Unary op) {
        return op == Unary.LOG || op == Unary.SQRT || op == Unary.RSQRT;
    }

    @Test
    void unaryOpsMatchDoublePrecision() {
        int[][] shapes = {{3, 5, 67}, {1001}, {2, 1, 3}, {4, 9, 1, 16}};
        for (Unary op : Unary.values()) {
            DoubleUnaryOperator f = reference(op);
            for (int[] shape : shapes) {
                for (float scale : new float[] {1f, 8f, 40f}) {
                    Tensor x = TestData.random(rnd, scale, shape);
                    if (positiveOnly(op)) x = Ops.backend().unary(Unary.ABS, x);
                    double[] in = x.toDoubleArray();
                    double[] ref = new double[in.length];
                    for (int i = 0; i < in.length; i++) ref[i] = f.applyAsDouble(in[i]);
                    String what = op + " scale " + scale + " " + java.util.Arrays.toString(shape);
                    assertNear(what, Ops.unary(op, x), shape, ref);
                    assertNear(what + " transposed", Ops.unary(op, TestData.transposedLayout(x)), shape, ref);
                    assertNear(what + " sliced", Ops.unary(op, TestData.slicedLayout(x)), shape, ref);
                }
            }
        }
    }

    /**
     * Every element, not just the norm: within a few ulps of the exact value, plus what rounding the input
     * to float already costs where the function is ill-conditioned (|x·f'(x)|·2⁻²⁴, e.g. sin of large
     * arguments or the far negative tail of GELU).
     */
    @Test
    void activationsAreAccurateElementByElement() {
        float[] xs = new float[4099];
        for (int i = 0; i < xs.length; i++) xs[i] = -12f + 24f * i / (xs.length - 1);
        Tensor x = Tensor.of(xs, xs.length);
        for (Unary op : new Unary[] {Unary.EXP, Unary.TANH, Unary.SIGMOID, Unary.SILU, Unary.GELU_ERF, Unary.GELU_TANH,
                Unary.QUICK_GELU, Unary.SIN, Unary.COS}) {
            float[] got = Ops.unary(op, x).toFloatArray();
            DoubleUnaryOperator f = reference(op);
            for (int i = 0; i < xs.length; i++) {
                double v = xs[i], ref = f.applyAsDouble(v);
                double h = 1e-6 * Math.max(1, Math.abs(v));
                double conditioning = Math.abs(v * (f.applyAsDouble(v + h) - f.applyAsDouble(v - h)) / (2 * h));
                // (+ 1e-40: results in the subnormal range may flush where an intermediate underflows)
                double allowed = 4 * Math.ulp((float) Math.abs(ref)) + 4 * conditioning * 0x1p-24 + 1e-40;
                double err = Math.abs(got[i] - ref);
                assertTrue(err <= allowed, op + "(" + xs[i] + ") = " + got[i] + ", expected " + ref + " ± " + allowed);
            }
        }
    }

    @Test
    void specialValuesFollowIeee() {
        Tensor x = Tensor.of(new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f,
                100f, -100f, 1e-40f, 3e38f, -3e38f, 1f, 2f, 88.7f, -87.5f, -103f, 0.5f}, 16);
        float[] exp = Ops.exp(x).toFloatArray();
        float[] log = Ops.log(x).toFloatArray();
        float[] tanh = Ops.tanh(x).toFloatArray();
        float[] sig = Ops.sigmoid(x).toFloatArray();
        float[] gelu = Ops.gelu(x).toFloatArray();
        assertTrue(Float.isNaN(exp[0]) && Float.isNaN(log[0]) && Float.isNaN(tanh[0]) && Float.isNaN(sig[0]) && Float.isNaN(gelu[0]));
        assertEquals(Float.POSITIVE_INFINITY, exp[1]);
        assertEquals(0f, exp[2]);
        assertEquals(Float.POSITIVE_INFINITY, exp[5]);
        assertEquals((float) Math.exp(88.7f), exp[12], Math.ulp((float) Math.exp(88.7f)));
        assertEquals((float) Math.exp(-87.5f), exp[13], 2 * Math.ulp((float) Math.exp(-87.5f)));
        assertEquals((float) Math.exp(-103f), exp[14], Float.MIN_VALUE); // subnormal result
        assertEquals(Float.POSITIVE_INFINITY, log[1]);
        assertTrue(Float.isNaN(log[2]) && Float.isNaN(log[6]));
        assertEquals(Float.NEGATIVE_INFINITY, log[3]);
        assertEquals(Float.NEGATIVE_INFINITY, log[4]);
        assertEquals((float) Math.log(1e-40f), log[7], 2 * Math.ulp((float) Math.log(1e-40f))); // subnormal input
        assertEquals(0f, log[10]);
        assertEquals(1f, tanh[1]);
        assertEquals(-1f, tanh[2]);
        assertEquals(1f, sig[1]);
        assertEquals(0f, sig[2]);
        assertEquals(Float.POSITIVE_INFINITY, gelu[1]);
        assertEquals(100f, gelu[5]);
        assertEquals(0f, gelu[6], 1e-30);
        assertEquals(3e38f, gelu[8]);
    }

    @Test
    void affineClampAndAxpby() {
        Tensor x = TestData.random(rnd, 5f, 3, 7, 19);
        double[] in = x.toDoubleArray();
        double[] aff = new double[in.length], clamp = new double[in.length];
        for (int i = 0; i < in.length; i++) {
            aff[i] = in[i] * 0.37 - 1.25;
            clamp[i] = Math.min(Math.max(in[i], -1.5), 2.25);
        }
        assertNear("affine", Ops.affine(x, 0.37f, -1.25f), x.shape(), aff);
        assertNear("affine transposed", Ops.affine(TestData.transposedLayout(x), 0.37f, -1.25f), x.shape(), aff);
        assertNear("clamp", Ops.clamp(TestData.slicedLayout(x), -1.5f, 2.25f), x.shape(), clamp);
        Tensor y = TestData.random(rnd, 5f, 7, 1);
        double[] ref = referenceBinary((p, q) -> 0.8 * p - 0.3 * q, in, x.shape(), y.toDoubleArray(), y.shape(), x.shape());
        assertNear("axpby broadcast", Ops.axpby(0.8f, x, -0.3f, y), x.shape(), ref);
        Tensor z = TestData.random(rnd, 5f, 3, 7, 19);
        ref = referenceBinary((p, q) -> 0.8 * p - 0.3 * q, in, x.shape(), z.toDoubleArray(), z.shape(), x.shape());
        assertNear("axpby", Ops.axpby(0.8f, TestData.transposedLayout(x), -0.3f, z), x.shape(), ref);
        float[] nan = Ops.clamp(Tensor.of(new float[] {Float.NaN}, 1), 0f, 1f).toFloatArray();
        assertTrue(Float.isNaN(nan[0]), "clamp keeps NaN");
    }

    @Test
    void emptyAndScalarShapes() {
        Tensor empty = Tensor.empty(DType.F32, 3, 0, 5);
        assertArrayEquals(new int[] {3, 0, 5}, Ops.silu(empty).shape());
        assertArrayEquals(new int[] {3, 0, 5}, Ops.add(empty, Tensor.scalar(1f)).shape());
        Tensor s = Tensor.scalar(2f);
        assertEquals(4f, Ops.mul(s, s).getFloat());
    }

    @Test
    void unaryRejectsIntegers() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Ops.exp(Tensor.ofLongs(new long[] {1}, 1)));
        assertTrue(e.getMessage().contains("I64"), e.getMessage());
    }
}
