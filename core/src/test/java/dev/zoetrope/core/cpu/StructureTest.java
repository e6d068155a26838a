package dev.zoetrope.core.cpu;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Ops;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;

import static dev.zoetrope.core.cpu.TestData.unravel;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** concat, pad, embedding, argmax and top-k: exact results (they move values, they do not compute). */
class StructureTest {
    private Scope scope;
    private final Random rnd = new Random(5);

    @BeforeEach
    void open() {
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    @Test
    void concatAlongEveryDimension() {
        for (int dim = 0; dim < 3; dim++) {
            int[] sa = {2, 3, 5}, sb = {2, 3, 5};
            sb[dim] = 4;
            Tensor a = TestData.random(rnd, 1f, sa), b = TestData.random(rnd, 1f, sb);
            for (Tensor bb : new Tensor[] {b, TestData.transposedLayout(b), b.to(DType.F16)}) {
                Tensor out = Ops.concat(dim, a, bb);
                int[] shape = out.shape();
                assertEquals(sa[dim] + 4, shape[dim]);
                float[] got = out.toFloatArray(), av = a.toFloatArray(), bv = bb.toFloatArray();
                for (int i = 0; i < got.length; i++) {
                    int[] idx = unravel(i, shape);
                    float want;
                    if (idx[dim] < sa[dim]) {
                        want = av[(int) flat(idx, sa)];
                    } else {
                        idx[dim] -= sa[dim];
                        want = bv[(int) flat(idx, sb)];
                    }
                    assertEquals(want, got[i], "concat dim " + dim + " element " + i);
                }
            }
        }
        // negative dim, three inputs, integer tensors keep their dtype
        Tensor ids = Ops.concat(-1, Tensor.ofLongs(new long[] {1, 2}, 1, 2), Tensor.ofLongs(new long[] {3}, 1, 1),
                Tensor.ofLongs(new long[] {4, 5}, 1, 2));
        assertEquals(DType.I64, ids.dtype());
        assertArrayEquals(new long[] {1, 2, 3, 4, 5}, ids.toLongArray());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Ops.concat(0, Tensor.zeros(DType.F32, 2, 3), Tensor.zeros(DType.F32, 2, 4)));
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[2, 4]"), e.getMessage());
    }

    private static long flat(int[] idx, int[] shape) {
        long f = 0;
        for (int d = 0; d < shape.length; d++) f = f * shape[d] + idx[d];
        return f;
    }

    @Test
    void padLikeTorch() {
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 1, 1, 2, 3);
        // diffusers Downsample2D: F.pad(x, (0, 1, 0, 1)) before a stride-2 conv
        Tensor p = Ops.pad(x, 0f, 0, 1, 0, 1);
        assertArrayEquals(new int[] {1, 1, 3, 4}, p.shape());
        assertArrayEquals(new float[] {1, 2, 3, 0, 4, 5, 6, 0, 0, 0, 0, 0}, p.toFloatArray());
        Tensor q = Ops.pad(TestData.transposedLayout(x), -1f, 1, 0);
        assertArrayEquals(new float[] {-1, 1, 2, 3, -1, 4, 5, 6}, q.toFloatArray());
        Tensor crop = Ops.pad(x, 0f, -1, 0, 0, -1); // negative pads crop
        assertArrayEquals(new float[] {2, 3}, crop.toFloatArray());
        assertThrows(IllegalArgumentException.class, () -> Ops.pad(x, 0f, 1, 1, 1));
    }

    @Test
    void embeddingWidensEveryTableType() {
        Tensor table = TestData.random(rnd, 1f, 50, 37);
        long[] ids = {3, 0, 49, 3, 17, 8};
        for (Tensor t : new Tensor[] {table, table.to(DType.F16), table.to(DType.BF16), TestData.slicedLayout(table)}) {
            float[] rows = t.toFloatArray();
            for (Tensor idx : new Tensor[] {Tensor.ofLongs(ids, 2, 3), Tensor.ofLongs(ids, 2, 3).to(DType.I32)}) {
                Tensor out = Ops.embedding(t, idx);
                assertArrayEquals(new int[] {2, 3, 37}, out.shape());
                float[] got = out.toFloatArray();
                for (int i = 0; i < ids.length; i++) {
                    for (int c = 0; c < 37; c++) {
                        assertEquals(rows[(int) ids[i] * 37 + c], got[i * 37 + c], t.dtype() + " id " + ids[i]);
                    }
                }
            }
        }
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                () -> Ops.embedding(table, Tensor.ofLongs(new long[] {1, 50}, 2)));
        assertTrue(e.getMessage().contains("50") && e.getMessage().contains("position 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Ops.embedding(table, Tensor.of(new float[] {1f}, 1)));
    }

    @Test
    void argmaxFirstOfTiesAndNaN() {
        Tensor x = TestData.random(rnd, 5f, 7, 300);
        float[] v = x.toFloatArray();
        long[] got = Ops.argmax(x).toLongArray();
        for (int r = 0; r < 7; r++) {
            int best = 0;
            for (int i = 1; i < 300; i++) if (v[r * 300 + i] > v[r * 300 + best]) best = i;
            assertEquals(best, got[r]);
        }
        float[] ties = new float[40];
        Arrays.fill(ties, 1f);
        ties[13] = 3f;
        ties[29] = 3f;
        assertEquals(13, Ops.argmax(Tensor.of(ties, 40)).toLongArray()[0]);
        ties[21] = Float.NaN;
        assertEquals(21, Ops.argmax(Tensor.of(ties, 40)).toLongArray()[0], "NaN counts as the maximum, as in torch");
        assertEquals(0, Ops.argmax(Tensor.full(Float.NEGATIVE_INFINITY, 5)).toLongArray()[0]);
        assertArrayEquals(new int[] {2, 3}, Ops.argmax(Tensor.zeros(DType.F32, 2, 3, 4)).shape());
    }

    @Test
    void topkDescendingWithStableTies() {
        int d = 1000;
        Tensor x = TestData.random(rnd, 1f, 3, d);
        // plant ties
        x.setFloat(2f, 1, 500);
        x.setFloat(2f, 1, 100);
        x.setFloat(2f, 1, 900);
        float[] v = x.toFloatArray();
        for (int k : new int[] {0, 1, 5, 64, d}) {
            Tensor[] top = Ops.topk(TestData.transposedLayout(x), k);
            assertArrayEquals(new int[] {3, k}, top[0].shape());
            float[] vals = top[0].toFloatArray();
            long[] idx = top[1].toLongArray();
            for (int r = 0; r < 3; r++) {
                final int row = r;
                Integer[] order = IntStream.range(0, d).boxed().toArray(Integer[]::new);
                Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -v[row * d + i]).thenComparingInt(i -> i));
                for (int i = 0; i < k; i++) {
                    assertEquals(order[i].longValue(), idx[r * k + i], "k=" + k + " row " + r + " rank " + i);
                    assertEquals(v[r * d + order[i]], vals[r * k + i]);
                }
            }
        }
        assertArrayEquals(new long[] {100, 500, 900}, Arrays.copyOf(Ops.topk(x.select(0, 1), 3)[1].toLongArray(), 3));
        float[] nan = {1f, Float.NaN, 3f, Float.POSITIVE_INFINITY};
        assertArrayEquals(new long[] {1, 3}, Ops.topk(Tensor.of(nan, 4), 2)[1].toLongArray(), "NaN ranks above +∞");
        assertThrows(IllegalArgumentException.class, () -> Ops.topk(x, d + 1));
    }
}
