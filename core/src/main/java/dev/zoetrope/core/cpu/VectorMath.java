package dev.zoetrope.core.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Float32 transcendental functions on whole vectors, within a few ulp of the exact result (exp and log ≤ 1
 * ulp, the others ≤ ~4 ulp except near their zeros), so a vectorised kernel stays close to the scalar path
 * (which uses {@link Math} in double). Polynomial coefficients were fitted for this class (weighted least
 * squares towards minimax on Chebyshev nodes, then rounded to float); the fit intervals are stated at each.
 * Small static methods so the JIT inlines them into the calling loop (vectors never escape to the heap).
 */
final class VectorMath {
    private VectorMath() {
    }

    static final VectorSpecies<Float> F = Kernels.F;
    static final VectorSpecies<Integer> I = F.withLanes(int.class);

    static FloatVector bc(float v) {
        return FloatVector.broadcast(F, v);
    }

    // ---------------------------------------------------------------- exp

    private static final float LOG2E = 1.44269504088896341f;
    /** 1.5·2²³: adding it rounds a float of magnitude < 2²² to an integer held in the low mantissa bits. */
    private static final float ROUND_MAGIC = 12582912f;
    private static final int ROUND_MAGIC_BITS = Float.floatToRawIntBits(ROUND_MAGIC);
    private static final float LN2_HI = (float) Math.log(2);
    private static final float LN2_LO = (float) (Math.log(2) - LN2_HI);
    // exp(r) = 1 + r + r²·P(r) on |r| ≤ ln2/2 (relative error of the fit 2.7e-9).
    private static final float E0 = 5.000000000e-01f, E1 = 1.666666716e-01f, E2 = 4.166646674e-02f,
            E3 = 8.333360776e-03f, E4 = 1.393359737e-03f, E5 = 1.985779527e-04f;

    /** e^x; overflows to +∞ above 88.72, reaches subnormals and 0 below −87.3, NaN stays NaN. */
    static FloatVector exp(FloatVector x) {
        FloatVector xc = x.max(-104f).min(89f); // beyond these the result is 0 or ∞ anyway (NaN passes through)
        FloatVector t = xc.fma(bc(LOG2E), bc(ROUND_MAGIC));
        FloatVector n = t.sub(ROUND_MAGIC);
        IntVector ni = t.reinterpretAsInts().sub(ROUND_MAGIC_BITS);
        FloatVector r = n.fma(bc(-LN2_HI), xc);
        r = n.fma(bc(-LN2_LO), r);
        FloatVector p = r.fma(bc(E5), bc(E4));
        p = p.fma(r, bc(E3));
        p = p.fma(r, bc(E2));
        p = p.fma(r, bc(E1));
        p = p.fma(r, bc(E0));
        p = p.fma(r.mul(r), r).add(1f);
        // 2^n in two factors so that n down to −150 (subnormal results) and up to 128 (overflow) stay exact.
        IntVector n1 = ni.lanewise(VectorOperators.ASHR, 1);
        IntVector n2 = ni.sub(n1);
        FloatVector s1 = n1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector s2 = n2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(s1).mul(s2);
    }

    // ---------------------------------------------------------------- log

    private static final float SQRT2 = 1.41421356f;

    /** Natural logarithm: −∞ at ±0, NaN below 0, +∞ at +∞; subnormal inputs handled. */
    static FloatVector log(FloatVector x) {
        VectorMask<Float> subnormal = x.lt(Float.MIN_NORMAL).and(x.compare(VectorOperators.GT, 0f));
        FloatVector xs = x.blend(x.mul(8388608f), subnormal); // ×2²³ lifts subnormals into the normal range
        IntVector bits = xs.reinterpretAsInts();
        IntVector e = bits.lanewise(VectorOperators.LSHR, 23).sub(127);
        e = e.blend(e.sub(23), subnormal.cast(I));
        FloatVector m = bits.and(0x007fffff).or(0x3f800000).reinterpretAsFloats(); // [1, 2)
        VectorMask<Float> big = m.compare(VectorOperators.GT, SQRT2);
        m = m.blend(m.mul(0.5f), big); // [√½, √2]
        e = e.blend(e.add(1), big.cast(I));
        FloatVector ef = (FloatVector) e.convert(VectorOperators.I2F, 0);
        FloatVector result = ef.fma(bc(LN2_HI), ef.fma(bc(LN2_LO), log1pReduced(m.sub(1f))));
        return logSpecial(x, result);
    }

    /**
     * log(1+f) for f in [√½−1, √2−1] as 2·atanh(s), s = f/(2+f), |s| ≤ 0.1716; written f − s·(f − s²·Q(s²))
     * (since f = 2s + s·f) so the rounding of s stays out of the leading term. Q is the atanh series
     * 2/3 + 2u/5 + 2u²/7 + ..., truncated where its remainder is below 2e-9.
     */
    private static FloatVector log1pReduced(FloatVector f) {
        FloatVector s = f.div(f.add(2f));
        FloatVector u = s.mul(s);
        FloatVector q = u.fma(bc(2f / 13), bc(2f / 11));
        q = q.fma(u, bc(2f / 9));
        q = q.fma(u, bc(2f / 7));
        q = q.fma(u, bc(2f / 5));
        q = q.fma(u, bc(2f / 3));
        return f.sub(s.mul(f.sub(u.mul(q))));
    }

    private static FloatVector logSpecial(FloatVector x, FloatVector result) {
        result = result.blend(bc(Float.NEGATIVE_INFINITY), x.compare(VectorOperators.EQ, 0f));
        result = result.blend(bc(Float.NaN), x.lt(0f));
        return result.blend(x, x.compare(VectorOperators.EQ, Float.POSITIVE_INFINITY).or(x.test(VectorOperators.IS_NAN)));
    }

    // ---------------------------------------------------------------- sigmoid family

    /** 1/(1+e^−x), computed from e^−|x| so it neither overflows nor loses the tiny values for x ≪ 0. */
    static FloatVector sigmoid(FloatVector x) {
        FloatVector e = exp(x.abs().neg());
        FloatVector s = bc(1f).div(e.add(1f));
        return s.blend(e.mul(s), x.lt(0f));
    }

    // ---------------------------------------------------------------- tanh

    // tanh(x) = x + x³·P(x²) on |x| ≤ 0.625 (relative error of the fit 4.8e-9).
    private static final float T0 = -3.333333433e-01f, T1 = 1.333330423e-01f, T2 = -5.395926535e-02f,
            T3 = 2.176894620e-02f, T4 = -8.344028145e-03f, T5 = 2.292828634e-03f;

    static FloatVector tanh(FloatVector x) {
        FloatVector ax = x.abs();
        VectorMask<Float> small = ax.lt(0.625f);
        FloatVector result = null;
        if (small.anyTrue()) {
            FloatVector s = x.mul(x);
            FloatVector p = s.fma(bc(T5), bc(T4));
            p = p.fma(s, bc(T3));
            p = p.fma(s, bc(T2));
            p = p.fma(s, bc(T1));
            p = p.fma(s, bc(T0));
            result = x.mul(s).fma(p, x);
        }
        if (!small.allTrue()) {
            // 1 − 2/(e^{2|x|} + 1): no cancellation for |x| ≥ 0.625, saturates to 1 when e^{2|x|} overflows.
            FloatVector e = exp(ax.add(ax));
            FloatVector large = bc(1f).sub(bc(2f).div(e.add(1f)));
            large = large.lanewise(VectorOperators.NEG, x.lt(0f));
            result = result == null ? large : large.blend(result, small);
        }
        return result;
    }

    // ---------------------------------------------------------------- GELU (erf form)

    private static final float INV_SQRT2 = 7.071067691e-01f;
    private static final float ERF_SPLIT = 0.921875f;
    // erf(z) = z·P(z²) on z ≤ 0.921875 (relative error of the fit 1.6e-8).
    private static final float R0 = 1.128379107e+00f, R1 = -3.761249483e-01f, R2 = 1.128181592e-01f,
            R3 = -2.676661499e-02f, R4 = 4.993179347e-03f, R5 = -5.990850623e-04f;
    // erfc(z)·e^{z²} = N(z)/D(z) on 0.921875 ≤ z ≤ 10 (relative error of the fit 5.2e-9).
    private static final float N0 = 9.995431900e-01f, N1 = 1.100219011e+00f, N2 = 5.485690236e-01f,
            N3 = 1.287505478e-01f, N4 = 3.768400347e-07f;
    private static final float D1 = 2.225609541e+00f, D2 = 2.069163322e+00f, D3 = 9.718241096e-01f,
            D4 = 2.282319367e-01f;

    /**
     * x·Φ(x) = ½x(1 + erf(x/√2)). For z = |x|/√2 past 0.92 it is evaluated through erfc, so the negative tail
     * keeps its relative accuracy instead of cancelling in 1 + erf.
     */
    static FloatVector geluErf(FloatVector x) {
        FloatVector z = x.abs().mul(INV_SQRT2);
        VectorMask<Float> small = z.lt(ERF_SPLIT);
        if (small.allTrue()) return geluSmall(x, z);
        FloatVector tail = geluTail(x, z);
        return small.anyTrue() ? tail.blend(geluSmall(x, z), small) : tail;
    }

    /** ½x + ½|x|·erf(z) with erf(z) = z·P(z²), z = |x|/√2 ≤ 0.92. */
    private static FloatVector geluSmall(FloatVector x, FloatVector z) {
        FloatVector s = z.mul(z);
        FloatVector p = s.fma(bc(R5), bc(R4));
        p = p.fma(s, bc(R3));
        p = p.fma(s, bc(R2));
        p = p.fma(s, bc(R1));
        p = p.fma(s, bc(R0));
        return x.abs().mul(0.5f).fma(z.mul(p), x.mul(0.5f));
    }

    /**
     * x·(1 − ½erfc(z)) for x ≥ 0, x·½erfc(z) for x < 0, with erfc(z) = e^{−z²}·N(z)/D(z). The exponent
     * z² = x²/2 is formed exactly from x (hi + lo), not from the rounded z, whose error would be amplified
     * by 2z² in the far tail.
     */
    private static FloatVector geluTail(FloatVector x, FloatVector z) {
        FloatVector ax = x.abs().min(17f); // erfc(17/√2) underflows; keeps x² finite for x = ±∞
        FloatVector zc = z.min(12f);
        FloatVector hi = ax.mul(ax);
        FloatVector lo = ax.fma(ax, hi.neg()); // x² = hi + lo exactly
        FloatVector num = zc.fma(bc(N4), bc(N3));
        num = num.fma(zc, bc(N2));
        num = num.fma(zc, bc(N1));
        num = num.fma(zc, bc(N0));
        FloatVector den = zc.fma(bc(D4), bc(D3));
        den = den.fma(zc, bc(D2));
        den = den.fma(zc, bc(D1));
        den = den.fma(zc, bc(1f));
        FloatVector halfErfc = exp(hi.mul(-0.5f)).mul(lo.fma(bc(-0.5f), bc(1f))).mul(num.div(den)).mul(0.5f);
        return x.mul(bc(1f).sub(halfErfc).blend(halfErfc, x.lt(0f)));
    }

    // ---------------------------------------------------------------- sin / cos

    private static final float TWO_OVER_PI = 0.636619772f;
    // π/2 split into three floats; with FMA the reduction x − j·π/2 stays accurate while |j| < 2¹⁶.
    private static final float PIO2_1 = (float) (Math.PI / 2);
    private static final float PIO2_2 = (float) (Math.PI / 2 - PIO2_1);
    private static final float PIO2_3 = (float) (Math.PI / 2 - PIO2_1 - (double) PIO2_2);
    /** Beyond this the three-part reduction loses accuracy and lanes are computed with {@link Math}. */
    private static final float TRIG_LIMIT = 65536f;

    static FloatVector sin(FloatVector x) {
        return trig(x, 0);
    }

    static FloatVector cos(FloatVector x) {
        return trig(x, 1);
    }

    /** sin(x + shift·π/2). */
    private static FloatVector trig(FloatVector x, int shift) {
        if (x.abs().compare(VectorOperators.GT, TRIG_LIMIT).anyTrue() || x.test(VectorOperators.IS_NAN).anyTrue()) {
            return trigLanes(x, shift);
        }
        FloatVector t = x.fma(bc(TWO_OVER_PI), bc(ROUND_MAGIC));
        FloatVector j = t.sub(ROUND_MAGIC);
        IntVector quadrant = t.reinterpretAsInts().sub(ROUND_MAGIC_BITS).add(shift);
        FloatVector r = j.fma(bc(-PIO2_1), x);
        r = j.fma(bc(-PIO2_2), r);
        r = j.fma(bc(-PIO2_3), r); // |r| ≤ π/4
        FloatVector r2 = r.mul(r);
        VectorMask<Float> odd = quadrant.and(1).compare(VectorOperators.NE, 0).cast(F);
        VectorMask<Float> negate = quadrant.and(2).compare(VectorOperators.NE, 0).cast(F);
        return sinReduced(r, r2).blend(cosReduced(r2), odd).lanewise(VectorOperators.NEG, negate);
    }

    /** Taylor series of sin on |r| ≤ π/4 (truncation error < 2e-9). */
    private static FloatVector sinReduced(FloatVector r, FloatVector r2) {
        FloatVector p = r2.fma(bc(1f / 362880), bc(-1f / 5040));
        p = p.fma(r2, bc(1f / 120));
        p = p.fma(r2, bc(-1f / 6));
        return r.mul(r2).fma(p, r);
    }

    /** Taylor series of cos on |r| ≤ π/4 (truncation error < 1e-10). */
    private static FloatVector cosReduced(FloatVector r2) {
        FloatVector p = r2.fma(bc(-1f / 3628800), bc(1f / 40320));
        p = p.fma(r2, bc(-1f / 720));
        p = p.fma(r2, bc(1f / 24));
        p = p.fma(r2, bc(-0.5f));
        return r2.fma(p, bc(1f));
    }

    /** Lane by lane in double: huge arguments (and NaN), where the float reduction is not accurate. */
    private static FloatVector trigLanes(FloatVector x, int shift) {
        float[] lanes = x.toArray();
        for (int i = 0; i < lanes.length; i++) lanes[i] = (float) (shift == 0 ? Math.sin(lanes[i]) : Math.cos(lanes[i]));
        return FloatVector.fromArray(F, lanes, 0);
    }
}
