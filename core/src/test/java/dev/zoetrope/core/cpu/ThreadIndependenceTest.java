package dev.zoetrope.core.cpu;

import dev.zoetrope.core.Backend.Interpolation;
import dev.zoetrope.core.Backend.Unary;
import dev.zoetrope.core.Ops;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static dev.zoetrope.core.cpu.TestData.assertThreadIndependent;

/**
 * Every kernel gives bit-identical results with 1 and 2 threads. Sizes are chosen so each op splits into
 * several tasks (task boundaries depend only on the problem size).
 */
class ThreadIndependenceTest {
    private Scope scope;
    private final Random rnd = new Random(13);

    @BeforeEach
    void open() {
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    @Test
    void elementwise() {
        Tensor a = TestData.random(rnd, 3f, 2, 96, 401), b = TestData.random(rnd, 3f, 1, 96, 1);
        assertThreadIndependent("add broadcast", () -> Ops.add(a, b));
        assertThreadIndependent("div strided", () -> Ops.div(TestData.transposedLayout(a), a));
        assertThreadIndependent("axpby", () -> Ops.axpby(0.3f, a, 0.7f, b));
        for (Unary op : Unary.values()) assertThreadIndependent(op.name(), () -> Ops.unary(op, a));
        assertThreadIndependent("clamp", () -> Ops.clamp(a, -1f, 1f));
    }

    @Test
    void norms() {
        Tensor x = TestData.random(rnd, 2f, 2, 64, 17, 19);
        Tensor w = TestData.random(rnd, 1f, 64), bias = TestData.random(rnd, 1f, 64);
        assertThreadIndependent("groupNorm", () -> Ops.groupNorm(x, 32, w, bias, 1e-5f));
        Tensor rows = TestData.random(rnd, 2f, 300, 333);
        Tensor wr = TestData.random(rnd, 1f, 333);
        assertThreadIndependent("layerNorm", () -> Ops.layerNorm(rows, wr, wr, 1e-5f));
        assertThreadIndependent("rmsNorm", () -> Ops.rmsNorm(rows, wr, 1e-6f));
        assertThreadIndependent("softmax", () -> Ops.softmax(rows));
        assertThreadIndependent("sumLast", () -> Ops.sumLast(rows));
        assertThreadIndependent("meanLast", () -> Ops.meanLast(rows));
    }

    @Test
    void attention() {
        Tensor q = TestData.random(rnd, 1f, 2, 4, 150, 24), k = TestData.random(rnd, 1f, 2, 2, 300, 24), v = TestData.random(rnd, 1f, 2, 2, 300, 24);
        Tensor mask = TestData.random(rnd, 1f, 2, 1, 1, 300);
        assertThreadIndependent("attention", () -> Ops.attention(q, k, v, mask, true, 0.2f));
        Tensor tq = TestData.random(rnd, 1f, 400, 2, 16, 8);
        assertThreadIndependent("attention many small heads", () -> Ops.attention(tq, tq, tq));
    }

    @Test
    void positionsResampleStructure() {
        Tensor x = TestData.random(rnd, 1f, 2, 6, 300, 64);
        long[] pos = new long[300];
        for (int i = 0; i < pos.length; i++) pos[i] = i + 7;
        assertThreadIndependent("rope", () -> Ops.rope(x, pos, 1e6));
        Tensor img = TestData.random(rnd, 1f, 2, 16, 24, 24);
        for (Interpolation mode : Interpolation.values()) {
            assertThreadIndependent("interpolate " + mode, () -> Ops.interpolate(img, 37, 50, mode, false));
        }
        assertThreadIndependent("avgPool2d", () -> Ops.avgPool2d(img, 2, 2));
        assertThreadIndependent("concat", () -> Ops.concat(1, img, img));
        Tensor table = TestData.random(rnd, 1f, 1000, 64);
        long[] ids = new long[700];
        for (int i = 0; i < ids.length; i++) ids[i] = (i * 37) % 1000;
        assertThreadIndependent("embedding", () -> Ops.embedding(table, Tensor.ofLongs(ids, 700)));
        Tensor logits = TestData.random(rnd, 5f, 64, 2000);
        assertThreadIndependent("argmax", () -> Ops.argmax(logits).to(dev.zoetrope.core.DType.F32));
        assertThreadIndependent("topk", () -> Ops.topk(logits, 10)[0]);
    }
}
