package dev.zoetrope.core.noise;

/**
 * One lane of PyTorch's AVX2 float32 {@code log256_ps} / {@code sincos256_ps}
 * ({@code ATen/native/cpu/avx_mathfun.h}, Cephes-style polynomials after Julien Pommier's sse_mathfun),
 * reproduced bit for bit. These are what {@code torch.randn(..., dtype=float32)} uses for 16 or more
 * elements on any x86-64 CPU with AVX2. The C++ build contracts each multiply feeding an add into an FMA;
 * {@link Math#fma} reproduces exactly that pattern (plain multiply-then-add differs in the last bit for
 * many values, and so does libm's logf/sinf/cosf).
 */
final class CephesFloatMath {
    private CephesFloatMath() {
    }

    // Constants as the C source declares them: double literals rounded to float.
    private static final float SQRTHF = (float) 0.707106781186547524;
    private static final float LOG_P0 = (float) 7.0376836292E-2;
    private static final float LOG_P1 = (float) -1.1514610310E-1;
    private static final float LOG_P2 = (float) 1.1676998740E-1;
    private static final float LOG_P3 = (float) -1.2420140846E-1;
    private static final float LOG_P4 = (float) 1.4249322787E-1;
    private static final float LOG_P5 = (float) -1.6668057665E-1;
    private static final float LOG_P6 = (float) 2.0000714765E-1;
    private static final float LOG_P7 = (float) -2.4999993993E-1;
    private static final float LOG_P8 = (float) 3.3333331174E-1;
    private static final float LOG_Q1 = (float) -2.12194440e-4;
    private static final float LOG_Q2 = (float) 0.693359375;
    private static final int MIN_NORM_POS_BITS = 0x00800000;

    private static final float MINUS_DP1 = (float) -0.78515625;
    private static final float MINUS_DP2 = (float) -2.4187564849853515625e-4;
    private static final float MINUS_DP3 = (float) -3.77489497744594108e-8;
    private static final float SINCOF_P0 = (float) -1.9515295891E-4;
    private static final float SINCOF_P1 = (float) 8.3321608736E-3;
    private static final float SINCOF_P2 = (float) -1.6666654611E-1;
    private static final float COSCOF_P0 = (float) 2.443315711809948E-005;
    private static final float COSCOF_P1 = (float) -1.388731625493765E-003;
    private static final float COSCOF_P2 = (float) 4.166664568298827E-002;
    private static final float FOPI = (float) 1.27323954473516; // 4 / pi

    /** Natural logarithm as {@code log256_ps} computes it for one lane (NaN for x <= 0). */
    static float log(float x) {
        boolean invalid = x <= 0f;
        // _mm256_max_ps(x, min_norm): cuts off denormals (returns the second operand when x is NaN).
        float minNorm = Float.intBitsToFloat(MIN_NORM_POS_BITS);
        x = x > minNorm ? x : minNorm;
        int bits = Float.floatToRawIntBits(x);
        int exponent = (bits >>> 23) - 0x7f;
        // Keep the mantissa, force the exponent of 0.5: x in [0.5, 1).
        x = Float.intBitsToFloat((bits & ~0x7f800000) | Float.floatToRawIntBits(0.5f));
        float e = (float) exponent + 1f;
        boolean below = x < SQRTHF;
        float tmp = below ? x : 0f;
        x = x - 1f;
        e = e - (below ? 1f : 0f);
        x = x + tmp;

        float z = x * x;
        float y = LOG_P0;
        y = Math.fma(y, x, LOG_P1);
        y = Math.fma(y, x, LOG_P2);
        y = Math.fma(y, x, LOG_P3);
        y = Math.fma(y, x, LOG_P4);
        y = Math.fma(y, x, LOG_P5);
        y = Math.fma(y, x, LOG_P6);
        y = Math.fma(y, x, LOG_P7);
        y = Math.fma(y, x, LOG_P8);
        y = y * x;
        y = Math.fma(y, z, e * LOG_Q1); // y*z fused, e*q1 rounded on its own
        y = y - z * 0.5f;                // z*0.5 is exact: fused or not gives the same
        x = x + y;
        x = x + e * LOG_Q2;              // e*q2 is exact (q2 has 9 significant bits)
        return invalid ? Float.NaN : x;   // _mm256_or_ps with the all-ones invalid mask
    }

    /**
     * Sine and cosine as {@code sincos256_ps} computes them for one lane, packed as
     * {@code (sinBits << 32) | cosBits} so the hot loop allocates nothing.
     */
    static long sinCos(float xIn) {
        int signSin = Float.floatToRawIntBits(xIn) & 0x80000000;
        float x = Math.abs(xIn);
        float y = x * FOPI;
        int j = (int) y;            // _mm256_cvttps_epi32: truncation (arguments here are small and finite)
        j = (j + 1) & ~1;
        y = (float) j;
        int swapSignSin = (j & 4) << 29;
        boolean firstPoly = (j & 2) == 0;
        int signCos = (~(j - 2) & 4) << 29;

        // Extended-precision range reduction x = ((x - y*DP1) - y*DP2) - y*DP3.
        x = Math.fma(y, MINUS_DP1, x);
        x = Math.fma(y, MINUS_DP2, x);
        x = Math.fma(y, MINUS_DP3, x);
        signSin ^= swapSignSin;

        float z = x * x;
        float cosPoly = COSCOF_P0;
        cosPoly = Math.fma(cosPoly, z, COSCOF_P1);
        cosPoly = Math.fma(cosPoly, z, COSCOF_P2);
        cosPoly = cosPoly * z;
        cosPoly = Math.fma(cosPoly, z, -(z * 0.5f));
        cosPoly = cosPoly + 1f;

        float sinPoly = SINCOF_P0;
        sinPoly = Math.fma(sinPoly, z, SINCOF_P1);
        sinPoly = Math.fma(sinPoly, z, SINCOF_P2);
        sinPoly = sinPoly * z;
        sinPoly = Math.fma(sinPoly, x, x);

        // The selection as the source does it, with its additions of +0 (they decide signed zeros).
        float ysin2 = firstPoly ? sinPoly : 0f;
        float ysin1 = firstPoly ? 0f : cosPoly;
        float restSin = sinPoly - ysin2;
        float restCos = cosPoly - ysin1;
        float sin = ysin1 + ysin2;
        float cos = restCos + restSin;
        int sinBits = Float.floatToRawIntBits(sin) ^ signSin;
        int cosBits = Float.floatToRawIntBits(cos) ^ signCos;
        return ((long) sinBits << 32) | (cosBits & 0xffffffffL);
    }

    static float sinOf(long sinCos) {
        return Float.intBitsToFloat((int) (sinCos >>> 32));
    }

    static float cosOf(long sinCos) {
        return Float.intBitsToFloat((int) sinCos);
    }
}
