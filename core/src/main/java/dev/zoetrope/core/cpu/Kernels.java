package dev.zoetrope.core.cpu;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/** Shared switches and small helpers for the CPU kernels. */
public final class Kernels {
    /** False when {@code -Dzoetrope.vector=false}: every kernel takes its scalar path. */
    public static final boolean VECTOR = !"false".equalsIgnoreCase(System.getProperty("zoetrope.vector"))
            && FloatVector.SPECIES_PREFERRED.length() >= 4;
    public static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    public static final int FLOATS = F.length();

    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
    static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED;
    /** Byte order for Vector API loads and stores on off-heap memory. */
    static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private Kernels() {
    }

    /** x as contiguous F32 (a view when it already is). */
    static Tensor f32(Tensor x) {
        return x.dtype() == DType.F32 ? x.contiguous() : x.to(DType.F32);
    }

    /** x as F32 in any layout (no copy when it already is F32), so kernels can walk its strides. */
    static Tensor f32Strided(Tensor x) {
        return x.dtype() == DType.F32 ? x : x.to(DType.F32);
    }

    /**
     * Σ lanes[0..FLOATS) in lane order. Kernels store an accumulator vector here instead of calling
     * FloatVector.reduceLanes(ADD), which may add in any order (the C2 intrinsic uses a tree, the
     * interpreter a loop): the same data would then round differently depending on which tier ran it, and
     * results would no longer be reproducible from run to run or thread to thread.
     */
    static double sumLanes(float[] lanes) {
        double sum = 0;
        for (int i = 0; i < FLOATS; i++) sum += lanes[i];
        return sum;
    }

    /**
     * Releases a kernel's temporary copy (a conversion or contiguous copy of {@code source}) right away instead
     * of leaving it to the caller's scope; does nothing when {@code temp} shares the source's memory.
     */
    static void release(Tensor temp, Tensor source) {
        if (temp != null && temp.storage() != source.storage()) temp.close();
    }

    /** Rounds n up to a multiple of m. */
    static int roundUp(int n, int m) {
        return (n + m - 1) / m * m;
    }

    static void requireFloat(Tensor t, String what) {
        if (!t.dtype().isFloatingPoint()) throw new IllegalArgumentException(what + " must be floating point, got " + t.dtype());
    }

    static IllegalArgumentException shapeError(String op, String expectation, Tensor... ts) {
        StringBuilder sb = new StringBuilder(op).append(": ").append(expectation).append("; got");
        for (Tensor t : ts) sb.append(' ').append(t == null ? "null" : Arrays.toString(t.shape()));
        return new IllegalArgumentException(sb.toString());
    }

    /** Element {@code i} of a contiguous float tensor's memory of any float dtype, widened. */
    static float load(MemorySegment s, DType t, long i) {
        return switch (t) {
            case F32 -> s.getAtIndex(F32, i);
            case BF16 -> Float.intBitsToFloat((s.getAtIndex(I16, i) & 0xffff) << 16);
            case F16 -> Float.float16ToFloat(s.getAtIndex(I16, i));
            case F64 -> (float) s.getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, i);
            default -> throw new IllegalArgumentException("not a float dtype: " + t);
        };
    }
}
