package dev.zoetrope.core;

/**
 * Element types. Names are the safetensors dtype strings, so a header entry maps with {@link #fromSafetensors}.
 * Compute is F32; F16/BF16 are storage types widened while kernels pack or load them.
 */
public enum DType {
    F64(8), F32(4), F16(2), BF16(2), I64(8), I32(4), I16(2), I8(1), U8(1), BOOL(1);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    public int byteSize() {
        return byteSize;
    }

    public boolean isFloatingPoint() {
        return this == F64 || this == F32 || this == F16 || this == BF16;
    }

    /**
     * Maps a safetensors dtype name; returns null for names the format defines but Zoetrope does not support
     * (F8_E4M3, F8_E5M2, U16, U32, U64, …) so the caller can name the tensor in its error.
     */
    public static DType fromSafetensors(String name) {
        return switch (name) {
            case "F64" -> F64;
            case "F32" -> F32;
            case "F16" -> F16;
            case "BF16" -> BF16;
            case "I64" -> I64;
            case "I32" -> I32;
            case "I16" -> I16;
            case "I8" -> I8;
            case "U8" -> U8;
            case "BOOL" -> BOOL;
            default -> null;
        };
    }

    public String safetensorsName() {
        return name();
    }

    // ---- scalar conversions used by loaders, tests and scalar kernels ----

    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** Round-to-nearest-even, as torch's float→bfloat16 conversion (NaN stays NaN). */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 0x40);
        }
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    public static float f16ToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    public static short floatToF16(float f) {
        return Float.floatToFloat16(f);
    }
}
