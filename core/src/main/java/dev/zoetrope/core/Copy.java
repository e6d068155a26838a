package dev.zoetrope.core;

import java.lang.foreign.MemorySegment;

/** Strided copy with dtype conversion: the one routine behind contiguous(), to(), copyFrom(). */
final class Copy {
    private Copy() {
    }

    static void strided(Tensor src, Tensor dst) {
        int rank = src.rank();
        int[] shape = src.shape();
        long n = src.numel();
        if (n == 0) return;
        MemorySegment s = src.segment();
        MemorySegment d = dst.segment();
        DType st = src.dtype(), dt = dst.dtype();
        if (rank == 0) {
            Tensor.writeFloat(d, dt, dst.offset(), Tensor.readAsFloat(s, st, src.offset()));
            return;
        }
        long[] ss = src.strides(), ds = dst.strides();
        int inner = shape[rank - 1];
        long sInner = ss[rank - 1], dInner = ds[rank - 1];
        long rows = n / inner;
        int[] idx = new int[rank - 1];
        boolean sameType = st == dt;
        int es = st.byteSize();
        for (long r = 0; r < rows; r++) {
            long so = src.offset(), doff = dst.offset();
            for (int k = 0; k < rank - 1; k++) {
                so += idx[k] * ss[k];
                doff += idx[k] * ds[k];
            }
            if (sameType && sInner == 1 && dInner == 1) {
                MemorySegment.copy(s, so * es, d, doff * es, (long) inner * es);
            } else if (sameType && st == DType.F32) {
                for (int i = 0; i < inner; i++) {
                    d.setAtIndex(Tensor.F32, doff + i * dInner, s.getAtIndex(Tensor.F32, so + i * sInner));
                }
            } else if (st == DType.F64 && dt == DType.F64) {
                for (int i = 0; i < inner; i++) {
                    d.setAtIndex(Tensor.F64, doff + i * dInner, s.getAtIndex(Tensor.F64, so + i * sInner));
                }
            } else if (isInteger(st) && isInteger(dt)) {
                for (int i = 0; i < inner; i++) {
                    writeLong(d, dt, doff + i * dInner, readLong(s, st, so + i * sInner));
                }
            } else {
                for (int i = 0; i < inner; i++) {
                    Tensor.writeFloat(d, dt, doff + i * dInner, Tensor.readAsFloat(s, st, so + i * sInner));
                }
            }
            for (int k = rank - 2; k >= 0; k--) {
                if (++idx[k] < shape[k]) break;
                idx[k] = 0;
            }
        }
    }

    private static boolean isInteger(DType t) {
        return !t.isFloatingPoint();
    }

    private static long readLong(MemorySegment s, DType t, long e) {
        return switch (t) {
            case I64 -> s.getAtIndex(Tensor.I64, e);
            case I32 -> s.getAtIndex(Tensor.I32, e);
            case I16 -> s.getAtIndex(Tensor.I16, e);
            case I8 -> s.get(java.lang.foreign.ValueLayout.JAVA_BYTE, e);
            default -> s.get(java.lang.foreign.ValueLayout.JAVA_BYTE, e) & 0xff;
        };
    }

    private static void writeLong(MemorySegment d, DType t, long e, long v) {
        switch (t) {
            case I64 -> d.setAtIndex(Tensor.I64, e, v);
            case I32 -> d.setAtIndex(Tensor.I32, e, (int) v);
            case I16 -> d.setAtIndex(Tensor.I16, e, (short) v);
            default -> d.set(java.lang.foreign.ValueLayout.JAVA_BYTE, e, (byte) v);
        }
    }
}
