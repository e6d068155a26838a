package dev.zoetrope.core;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * An n-dimensional view: shape + strides (in elements) + offset (in elements) over a {@link Storage}.
 * Views (reshape of contiguous data, permute, transpose, slice, select, expand, unsqueeze) never copy;
 * {@link #contiguous()} copies only when needed. Memory belongs to the {@link Scope} that allocated it.
 * Ops live in {@link Ops}; this class holds layout and element access for loaders, tests and glue code.
 */
public final class Tensor {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED;
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
    static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED;

    private final Storage storage;
    private final DType dtype;
    private final int[] shape;
    private final long[] strides;
    private final long offset;

    public Tensor(Storage storage, DType dtype, int[] shape, long[] strides, long offset) {
        if (shape.length != strides.length) throw new IllegalArgumentException("shape and strides differ in rank");
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
        }
        this.storage = storage;
        this.dtype = dtype;
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
    }

    // ---------------------------------------------------------------- creation

    /** Uninitialised tensor in the current scope. */
    public static Tensor empty(DType dtype, int... shape) {
        long n = numel(shape);
        Storage storage = Scope.current().allocate(Math.max(1, n) * dtype.byteSize(), "tensor " + Arrays.toString(shape));
        return new Tensor(storage, dtype, shape.clone(), contiguousStrides(shape), 0);
    }

    public static Tensor zeros(DType dtype, int... shape) {
        Tensor t = empty(dtype, shape);
        t.storage.segment().fill((byte) 0);
        return t;
    }

    public static Tensor full(float value, int... shape) {
        Tensor t = empty(DType.F32, shape);
        MemorySegment s = t.storage.segment();
        long n = t.numel();
        long filled = Math.min(n, 1024);
        for (long i = 0; i < filled; i++) s.setAtIndex(F32, i, value);
        while (filled < n) { // double the filled prefix by copying it
            long chunk = Math.min(filled, n - filled);
            MemorySegment.copy(s, 0, s, filled * 4, chunk * 4);
            filled += chunk;
        }
        return t;
    }

    /** Copies {@code data} (row-major) into a new F32 tensor of the given shape. */
    public static Tensor of(float[] data, int... shape) {
        if (numel(shape) != data.length) {
            throw new IllegalArgumentException(data.length + " values do not fill shape " + Arrays.toString(shape));
        }
        Tensor t = empty(DType.F32, shape);
        MemorySegment.copy(data, 0, t.storage.segment(), F32, 0, data.length);
        return t;
    }

    public static Tensor ofLongs(long[] data, int... shape) {
        if (numel(shape) != data.length) {
            throw new IllegalArgumentException(data.length + " values do not fill shape " + Arrays.toString(shape));
        }
        Tensor t = empty(DType.I64, shape);
        MemorySegment.copy(data, 0, t.storage.segment(), I64, 0, data.length);
        return t;
    }

    public static Tensor scalar(float value) {
        return of(new float[] {value});
    }

    /** A contiguous view over borrowed memory (e.g. a mapped checkpoint). */
    public static Tensor wrap(Storage storage, DType dtype, int[] shape, long byteOffset) {
        if (byteOffset % dtype.byteSize() != 0) {
            // Offsets are in elements; misaligned data is copied by the caller instead.
            throw new IllegalArgumentException("byte offset " + byteOffset + " is not a multiple of " + dtype.byteSize());
        }
        return new Tensor(storage, dtype, shape.clone(), contiguousStrides(shape), byteOffset / dtype.byteSize());
    }

    // ---------------------------------------------------------------- layout

    public DType dtype() {
        return dtype;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code d}; negative d counts from the end. */
    public int dim(int d) {
        return shape[axis(d)];
    }

    public long[] strides() {
        return strides.clone();
    }

    public long stride(int d) {
        return strides[axis(d)];
    }

    public long offset() {
        return offset;
    }

    public Storage storage() {
        return storage;
    }

    /** The storage's memory (fails if it was released). */
    public MemorySegment segment() {
        return storage.segment();
    }

    public long numel() {
        return numel(shape);
    }

    public static long numel(int[] shape) {
        long n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    public static long[] contiguousStrides(int[] shape) {
        long[] s = new long[shape.length];
        long acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    public boolean isContiguous() {
        long acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && strides[i] != acc) return false;
            acc *= shape[i];
        }
        return true;
    }

    public int axis(int d) {
        int a = d < 0 ? d + shape.length : d;
        if (a < 0 || a >= shape.length) {
            throw new IllegalArgumentException("dimension " + d + " out of range for shape " + Arrays.toString(shape));
        }
        return a;
    }

    // ---------------------------------------------------------------- views

    /**
     * Reshape; one dimension may be -1. A view whenever the strides allow it (as torch.reshape: contiguous
     * data, or merging/splitting only dims that are laid out contiguously with each other, e.g. splitting the
     * last dim of a slice), otherwise a contiguous copy.
     */
    public Tensor reshape(int... newShape) {
        int[] resolved = resolveShape(newShape, numel());
        if (isContiguous()) {
            return new Tensor(storage, dtype, resolved, contiguousStrides(resolved), offset);
        }
        long[] viewStrides = viewStrides(resolved);
        if (viewStrides != null) return new Tensor(storage, dtype, resolved, viewStrides, offset);
        return contiguous().reshape(resolved);
    }

    /**
     * Strides that show this tensor's elements in {@code target} shape without moving them, or null. The
     * dims are split into runs that are contiguous with each other (stride[d] = stride[d+1]·size[d+1]); each
     * run of the old shape must map onto whole dims of the new shape, which then get strides within the run.
     */
    private long[] viewStrides(int[] target) {
        long[] out = new long[target.length];
        if (numel() == 0) return contiguousStrides(target);
        int t = target.length - 1;
        long runStride = strides.length == 0 ? 1 : strides[strides.length - 1];
        long runSize = 1, viewSize = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            runSize *= shape[d];
            boolean runEnds = d == 0 || (shape[d - 1] != 1 && strides[d - 1] != runSize * runStride);
            if (!runEnds) continue;
            while (t >= 0 && (viewSize < runSize || target[t] == 1)) {
                out[t] = viewSize * runStride;
                viewSize *= target[t];
                t--;
            }
            if (viewSize != runSize) return null;
            if (d > 0) {
                runStride = strides[d - 1];
                runSize = 1;
                viewSize = 1;
            }
        }
        return t == -1 ? out : null;
    }

    private int[] resolveShape(int[] newShape, long total) {
        int[] s = newShape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException("only one dimension may be -1");
                infer = i;
            } else {
                known *= s[i];
            }
        }
        if (infer >= 0) {
            if (known == 0 || total % known != 0) {
                throw new IllegalArgumentException("cannot reshape " + Arrays.toString(shape) + " to " + Arrays.toString(newShape));
            }
            s[infer] = (int) (total / known);
        }
        if (numel(s) != total) {
            throw new IllegalArgumentException("cannot reshape " + Arrays.toString(shape) + " to " + Arrays.toString(newShape));
        }
        return s;
    }

    public Tensor permute(int... order) {
        if (order.length != shape.length) throw new IllegalArgumentException("permute needs " + shape.length + " axes");
        int[] s = new int[order.length];
        long[] st = new long[order.length];
        boolean[] seen = new boolean[order.length];
        for (int i = 0; i < order.length; i++) {
            int a = axis(order[i]);
            if (seen[a]) throw new IllegalArgumentException("axis repeated in permute " + Arrays.toString(order));
            seen[a] = true;
            s[i] = shape[a];
            st[i] = strides[a];
        }
        return new Tensor(storage, dtype, s, st, offset);
    }

    public Tensor transpose(int a, int b) {
        int[] order = new int[shape.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        int x = axis(a), y = axis(b);
        order[x] = y;
        order[y] = x;
        return permute(order);
    }

    /** Elements [start, end) along {@code d} (negative start/end count from the end). */
    public Tensor slice(int d, int start, int end) {
        int a = axis(d);
        int n = shape[a];
        if (start < 0) start += n;
        if (end < 0) end += n;
        if (start < 0 || end > n || start > end) {
            throw new IllegalArgumentException("slice [" + start + ", " + end + ") out of range for dimension " + a
                    + " of size " + n);
        }
        int[] s = shape.clone();
        s[a] = end - start;
        return new Tensor(storage, dtype, s, strides, offset + start * strides[a]);
    }

    public Tensor narrow(int d, int start, int length) {
        return slice(d, start, start + length);
    }

    /** Index {@code i} along {@code d}, dropping that dimension. */
    public Tensor select(int d, int i) {
        int a = axis(d);
        if (i < 0) i += shape[a];
        if (i < 0 || i >= shape[a]) throw new IndexOutOfBoundsException("index " + i + " out of range for dimension " + a);
        int[] s = new int[shape.length - 1];
        long[] st = new long[shape.length - 1];
        for (int k = 0, j = 0; k < shape.length; k++) {
            if (k == a) continue;
            s[j] = shape[k];
            st[j++] = strides[k];
        }
        return new Tensor(storage, dtype, s, st, offset + i * strides[a]);
    }

    public Tensor unsqueeze(int d) {
        int a = d < 0 ? d + shape.length + 1 : d;
        if (a < 0 || a > shape.length) throw new IllegalArgumentException("bad unsqueeze dimension " + d);
        int[] s = new int[shape.length + 1];
        long[] st = new long[shape.length + 1];
        for (int k = 0, j = 0; k < s.length; k++) {
            if (k == a) {
                s[k] = 1;
                st[k] = (a < shape.length ? strides[a] * shape[a] : 1);
            } else {
                s[k] = shape[j];
                st[k] = strides[j++];
            }
        }
        return new Tensor(storage, dtype, s, st, offset);
    }

    public Tensor squeeze(int d) {
        int a = axis(d);
        if (shape[a] != 1) throw new IllegalArgumentException("dimension " + a + " has size " + shape[a] + ", not 1");
        return select(a, 0);
    }

    /** Broadcast view to {@code newShape} (size-1 dims get stride 0; -1 keeps a size); leading dims may be added. */
    public Tensor expand(int... newShape) {
        if (newShape.length < shape.length) throw new IllegalArgumentException("expand cannot drop dimensions");
        int lead = newShape.length - shape.length;
        int[] s = new int[newShape.length];
        long[] st = new long[newShape.length];
        for (int i = 0; i < newShape.length; i++) {
            int src = i - lead;
            int cur = src >= 0 ? shape[src] : 1;
            int want = newShape[i] == -1 ? cur : newShape[i];
            if (cur == want) {
                s[i] = cur;
                st[i] = src >= 0 ? strides[src] : 0;
            } else if (cur == 1) {
                s[i] = want;
                st[i] = 0;
            } else {
                throw new IllegalArgumentException("cannot expand " + Arrays.toString(shape) + " to " + Arrays.toString(newShape));
            }
        }
        return new Tensor(storage, dtype, s, st, offset);
    }

    /** This tensor if contiguous, otherwise a contiguous copy in the current scope. */
    public Tensor contiguous() {
        if (isContiguous()) return this;
        Tensor out = empty(dtype, shape);
        Copy.strided(this, out);
        return out;
    }

    /** A contiguous copy converted to {@code target} (a view of this if nothing changes). */
    public Tensor to(DType target) {
        if (target == dtype) return contiguous();
        Tensor out = empty(target, shape);
        Copy.strided(this, out);
        return out;
    }

    /** Copies {@code src} (same shape, any dtype and layout) into this tensor. */
    public Tensor copyFrom(Tensor src) {
        if (!Arrays.equals(shape, src.shape)) {
            throw new IllegalArgumentException("copy from " + Arrays.toString(src.shape) + " into " + Arrays.toString(shape));
        }
        Copy.strided(src, this);
        return this;
    }

    /** Releases this tensor's memory now (every view of it becomes unusable). */
    public void close() {
        Scope.release(storage);
    }

    // ---------------------------------------------------------------- element access (not for hot paths)

    public long elementIndex(int... index) {
        if (index.length != shape.length) throw new IllegalArgumentException("need " + shape.length + " indices");
        long e = offset;
        for (int i = 0; i < index.length; i++) {
            if (index[i] < 0 || index[i] >= shape[i]) {
                throw new IndexOutOfBoundsException("index " + Arrays.toString(index) + " outside " + Arrays.toString(shape));
            }
            e += index[i] * strides[i];
        }
        return e;
    }

    public float getFloat(int... index) {
        return readAsFloat(storage.segment(), dtype, elementIndex(index));
    }

    public void setFloat(float value, int... index) {
        writeFloat(storage.segment(), dtype, elementIndex(index), value);
    }

    public long getLong(int... index) {
        long e = elementIndex(index);
        MemorySegment s = storage.segment();
        return switch (dtype) {
            case I64 -> s.getAtIndex(I64, e);
            case I32 -> s.getAtIndex(I32, e);
            case I16 -> s.getAtIndex(I16, e);
            case I8 -> s.get(ValueLayout.JAVA_BYTE, e);
            case U8, BOOL -> s.get(ValueLayout.JAVA_BYTE, e) & 0xff;
            default -> (long) readAsFloat(s, dtype, e);
        };
    }

    /** All elements in row-major order, widened to float. */
    public float[] toFloatArray() {
        if (numel() > Integer.MAX_VALUE - 8) throw new IllegalStateException("tensor too large for a Java array");
        float[] out = new float[(int) numel()];
        if (dtype == DType.F32 && isContiguous()) {
            MemorySegment.copy(storage.segment(), F32, offset * 4, out, 0, out.length);
            return out;
        }
        int[] idx = new int[shape.length];
        MemorySegment s = storage.segment();
        for (int i = 0; i < out.length; i++) {
            long e = offset;
            for (int d = 0; d < idx.length; d++) e += idx[d] * strides[d];
            out[i] = readAsFloat(s, dtype, e);
            for (int d = idx.length - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) break;
                idx[d] = 0;
            }
        }
        return out;
    }

    public double[] toDoubleArray() {
        if (dtype == DType.F64) {
            Tensor c = contiguous();
            double[] out = new double[(int) numel()];
            MemorySegment.copy(c.storage.segment(), F64, c.offset * 8, out, 0, out.length);
            return out;
        }
        float[] f = toFloatArray();
        double[] out = new double[f.length];
        for (int i = 0; i < f.length; i++) out[i] = f[i];
        return out;
    }

    public long[] toLongArray() {
        long[] out = new long[(int) numel()];
        int[] idx = new int[shape.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = getLong(idx);
            for (int d = idx.length - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) break;
                idx[d] = 0;
            }
        }
        return out;
    }

    static float readAsFloat(MemorySegment s, DType dtype, long e) {
        return switch (dtype) {
            case F32 -> s.getAtIndex(F32, e);
            case F64 -> (float) s.getAtIndex(F64, e);
            case F16 -> Float.float16ToFloat(s.getAtIndex(I16, e));
            case BF16 -> DType.bf16ToFloat(s.getAtIndex(I16, e));
            case I64 -> s.getAtIndex(I64, e);
            case I32 -> s.getAtIndex(I32, e);
            case I16 -> s.getAtIndex(I16, e);
            case I8 -> s.get(ValueLayout.JAVA_BYTE, e);
            case U8, BOOL -> s.get(ValueLayout.JAVA_BYTE, e) & 0xff;
        };
    }

    static void writeFloat(MemorySegment s, DType dtype, long e, float v) {
        switch (dtype) {
            case F32 -> s.setAtIndex(F32, e, v);
            case F64 -> s.setAtIndex(F64, e, v);
            case F16 -> s.setAtIndex(I16, e, Float.floatToFloat16(v));
            case BF16 -> s.setAtIndex(I16, e, DType.floatToBf16(v));
            case I64 -> s.setAtIndex(I64, e, (long) v);
            case I32 -> s.setAtIndex(I32, e, (int) v);
            case I16 -> s.setAtIndex(I16, e, (short) v);
            case I8, U8, BOOL -> s.set(ValueLayout.JAVA_BYTE, e, (byte) v);
        }
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape) + " " + dtype;
    }
}
