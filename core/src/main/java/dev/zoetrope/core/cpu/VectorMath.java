package dev.zoetrope.core.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Float32 transcendental functions for the vector paths, within a few ulp of the exact result (exp and log
 * ≤ 1 ulp, the others a few ulp plus what the conditioning of the function costs), so a vectorised kernel
 * stays close to the scalar path (which uses {@link Math} in double). Polynomial coefficients were fitted
 * for this class (weighted least squares towards minimax on Chebyshev nodes, rounded to float); the fit
 * intervals are stated at each.
 *
 * <p>Every function works in place on a float[] range and contains its whole loop. Vectors never cross a
 * method boundary: HotSpot refuses to inline a method it has already compiled into a large body, and a
 * vector passed to or returned from a call that is not inlined is boxed on the heap at every call, which
 * costs ~50× the arithmetic. A range of n elements is processed as whole vectors, so arrays must have room
 * up to {@code from + roundUp(n, FLOATS)} (the lanes past n compute garbage that callers ignore).
 */
final class VectorMath {
    private VectorMath() {
    }

    static final VectorSpecies<Float> F = Kernels.F;
    static final VectorSpecies<Integer> I = F.withLanes(int.class);
    static final int FLOATS = Kernels.FLOATS;

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

    /**
     * a = e^a: n = round(a·log₂e), r = a − n·ln2 (two-part ln2 with FMA), polynomial on r, scaled by 2ⁿ in
     * two factors so that subnormal results (a down to −103.97) and overflow (a > 88.72 → +∞) come out
     * right; NaN stays NaN.
     */
    static void exp(float[] a, int from, int n) {
        expSum(a, from, n, 0f, null);
    }

    /**
     * a = e^(a − shift) over whole vectors covering [from, from + n); returns the sum of every lane written,
     * added in a fixed order through {@code lanes} (scratch of FLOATS floats; null: no sum, returns 0).
     */
    static float expSum(float[] a, int from, int n, float shift, float[] lanes) {
        FloatVector log2e = FloatVector.broadcast(F, LOG2E), magic = FloatVector.broadcast(F, ROUND_MAGIC);
        FloatVector ln2Hi = FloatVector.broadcast(F, -LN2_HI), ln2Lo = FloatVector.broadcast(F, -LN2_LO);
        FloatVector e0 = FloatVector.broadcast(F, E0), e1 = FloatVector.broadcast(F, E1), e2 = FloatVector.broadcast(F, E2),
                e3 = FloatVector.broadcast(F, E3), e4 = FloatVector.broadcast(F, E4), e5 = FloatVector.broadcast(F, E5);
        FloatVector sh = FloatVector.broadcast(F, shift);
        FloatVector sum = FloatVector.zero(F);
        for (int i = from, end = from + n; i < end; i += FLOATS) {
            FloatVector x = FloatVector.fromArray(F, a, i).sub(sh).max(-104f).min(89f); // beyond: 0 or ∞ anyway
            FloatVector t = x.fma(log2e, magic);
            FloatVector k = t.sub(ROUND_MAGIC);
            IntVector ki = t.reinterpretAsInts().sub(ROUND_MAGIC_BITS);
            FloatVector r = k.fma(ln2Hi, x);
            r = k.fma(ln2Lo, r);
            FloatVector p = r.fma(e5, e4);
            p = p.fma(r, e3);
            p = p.fma(r, e2);
            p = p.fma(r, e1);
            p = p.fma(r, e0);
            p = p.fma(r.mul(r), r).add(1f);
            IntVector k1 = ki.lanewise(VectorOperators.ASHR, 1);
            IntVector k2 = ki.sub(k1);
            FloatVector s1 = k1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector s2 = k2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector e = p.mul(s1).mul(s2);
            e.intoArray(a, i);
            sum = sum.add(e);
        }
        if (lanes == null) return 0f;
        sum.intoArray(lanes, 0);
        return (float) Kernels.sumLanes(lanes);
    }

    private static final float NEG_LN2_HI = -LN2_HI, NEG_LN2_LO = -LN2_LO;

    /**
     * The exponentials of attention probabilities, column-wise over a block of n rows {@code stride} apart:
     * a[j·stride + l] = e^(a[j·stride + l] − shift[l]) for j < n and l < width (a multiple of 2·FLOATS); when
     * {@code sums} is not null, sums[l] = Σ_j of the results, added in ascending j. The arguments are ≤ 0 up to
     * rounding (shift is the column maximum) and finite, so results under the smallest normal float (relative to
     * the maximum's 1) are flushed to zero instead of going subnormal, which no float32 sum of probabilities can
     * see; that takes an integer clamp of the exponent instead of FloatVector.max, whose Java semantics (NaN, −0)
     * cost five instructions. Otherwise the reduction and polynomial are those of {@link #expSum}, the polynomial
     * evaluated by Estrin's scheme and two vectors at a time, to shorten the dependency chains.
     */
    static void expShiftColumns(float[] a, int n, int stride, int width, float[] shift, float[] sums) {
        FloatVector log2e = FloatVector.broadcast(F, LOG2E), magic = FloatVector.broadcast(F, ROUND_MAGIC);
        FloatVector ln2Hi = FloatVector.broadcast(F, NEG_LN2_HI), ln2Lo = FloatVector.broadcast(F, NEG_LN2_LO);
        FloatVector e0 = FloatVector.broadcast(F, E0), e1 = FloatVector.broadcast(F, E1), e2 = FloatVector.broadcast(F, E2),
                e3 = FloatVector.broadcast(F, E3), e4 = FloatVector.broadcast(F, E4), e5 = FloatVector.broadcast(F, E5);
        FloatVector one = FloatVector.broadcast(F, 1f);
        IntVector zero = IntVector.zero(I);
        for (int l = 0; l < width; l += 2 * FLOATS) {
            FloatVector shA = FloatVector.fromArray(F, shift, l), shB = FloatVector.fromArray(F, shift, l + FLOATS);
            FloatVector sumA = FloatVector.zero(F), sumB = sumA;
            for (int j = 0, i = l; j < n; j++, i += stride) {
                FloatVector xA = FloatVector.fromArray(F, a, i).sub(shA);
                FloatVector xB = FloatVector.fromArray(F, a, i + FLOATS).sub(shB);
                FloatVector tA = xA.fma(log2e, magic), tB = xB.fma(log2e, magic);
                FloatVector kA = tA.sub(magic), kB = tB.sub(magic);
                FloatVector rA = kA.fma(ln2Lo, kA.fma(ln2Hi, xA)), rB = kB.fma(ln2Lo, kB.fma(ln2Hi, xB));
                // e^r = 1 + r + r²·(e0 + e1·r + r²·(e2 + e3·r) + r⁴·(e4 + e5·r))
                FloatVector r2A = rA.mul(rA), r2B = rB.mul(rB);
                FloatVector r4A = r2A.mul(r2A), r4B = r2B.mul(r2B);
                FloatVector pA = rA.fma(e1, e0).add(r2A.mul(rA.fma(e3, e2)).add(r4A.mul(rA.fma(e5, e4))));
                FloatVector pB = rB.fma(e1, e0).add(r2B.mul(rB.fma(e3, e2)).add(r4B.mul(rB.fma(e5, e4))));
                pA = pA.fma(r2A, rA).add(one);
                pB = pB.fma(r2B, rB).add(one);
                // 2^k as the exponent field k + 127 (k = t − magic as an integer), 0 for k < −126
                FloatVector sA = tA.reinterpretAsInts().add(127 - ROUND_MAGIC_BITS).max(zero)
                        .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
                FloatVector sB = tB.reinterpretAsInts().add(127 - ROUND_MAGIC_BITS).max(zero)
                        .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
                FloatVector eA = pA.mul(sA), eB = pB.mul(sB);
                eA.intoArray(a, i);
                eB.intoArray(a, i + FLOATS);
                sumA = sumA.add(eA);
                sumB = sumB.add(eB);
            }
            if (sums != null) {
                sumA.intoArray(sums, l);
                sumB.intoArray(sums, l + FLOATS);
            }
        }
    }

    /** max[l] = max_{j < n} a[j·stride + l] for l < width (a multiple of FLOATS); n ≥ 1. */
    static void columnMax(float[] a, int n, int stride, int width, float[] max) {
        for (int l = 0; l < width; l += FLOATS) {
            FloatVector m = FloatVector.fromArray(F, a, l);
            for (int j = 1, i = l + stride; j < n; j++, i += stride) m = m.max(FloatVector.fromArray(F, a, i));
            m.intoArray(max, l);
        }
    }

    /** a[j·stride + l] ·= scale[l] for j < n, l < width (a multiple of FLOATS). */
    static void scaleColumns(float[] a, int n, int stride, int width, float[] scale) {
        for (int l = 0; l < width; l += FLOATS) {
            FloatVector sc = FloatVector.fromArray(F, scale, l);
            for (int j = 0, i = l; j < n; j++, i += stride) FloatVector.fromArray(F, a, i).mul(sc).intoArray(a, i);
        }
    }

    // ---------------------------------------------------------------- log

    private static final float SQRT2 = 1.41421356f;

    /**
     * a = ln a: −∞ at ±0, NaN below 0, +∞ at +∞, subnormals handled. With a = m·2ᵉ, m in [√½, √2] and
     * f = m − 1: log(1+f) = 2·atanh(s), s = f/(2+f), |s| ≤ 0.1716, written f − s·(f − s²·Q(s²)) (since
     * f = 2s + s·f) so the rounding of s stays out of the leading term; Q is the atanh series
     * 2/3 + 2u/5 + 2u²/7 + …, truncated where its remainder is below 2e-9.
     */
    static void log(float[] a, int from, int n) {
        FloatVector q6 = FloatVector.broadcast(F, 2f / 13), q5 = FloatVector.broadcast(F, 2f / 11),
                q4 = FloatVector.broadcast(F, 2f / 9), q3 = FloatVector.broadcast(F, 2f / 7),
                q2 = FloatVector.broadcast(F, 2f / 5), q1 = FloatVector.broadcast(F, 2f / 3);
        FloatVector ln2Hi = FloatVector.broadcast(F, LN2_HI), ln2Lo = FloatVector.broadcast(F, LN2_LO);
        for (int i = from, end = from + n; i < end; i += FLOATS) {
            FloatVector x = FloatVector.fromArray(F, a, i);
            VectorMask<Float> subnormal = x.lt(Float.MIN_NORMAL).and(x.compare(VectorOperators.GT, 0f));
            FloatVector xs = x.blend(x.mul(8388608f), subnormal); // ×2²³ lifts subnormals into the normal range
            IntVector bits = xs.reinterpretAsInts();
            IntVector e = bits.lanewise(VectorOperators.LSHR, 23).sub(127);
            e = e.blend(e.sub(23), subnormal.cast(I));
            FloatVector m = bits.and(0x007fffff).or(0x3f800000).reinterpretAsFloats(); // [1, 2)
            VectorMask<Float> big = m.compare(VectorOperators.GT, SQRT2);
            m = m.blend(m.mul(0.5f), big);
            e = e.blend(e.add(1), big.cast(I));
            FloatVector f = m.sub(1f); // exact
            FloatVector s = f.div(f.add(2f));
            FloatVector u = s.mul(s);
            FloatVector q = u.fma(q6, q5);
            q = q.fma(u, q4);
            q = q.fma(u, q3);
            q = q.fma(u, q2);
            q = q.fma(u, q1);
            FloatVector log1p = f.sub(s.mul(f.sub(u.mul(q))));
            FloatVector ef = (FloatVector) e.convert(VectorOperators.I2F, 0);
            FloatVector result = ef.fma(ln2Hi, ef.fma(ln2Lo, log1p));
            result = result.blend(Float.NEGATIVE_INFINITY, x.compare(VectorOperators.EQ, 0f));
            result = result.blend(Float.NaN, x.lt(0f));
            // +∞ and NaN (x ≠ x) map to themselves
            result = result.blend(x, x.compare(VectorOperators.EQ, Float.POSITIVE_INFINITY).or(x.compare(VectorOperators.NE, x)));
            result.intoArray(a, i);
        }
    }

    // ---------------------------------------------------------------- sigmoid

    /**
     * out = 1/(1 + e^−x), from e^−|x| so it neither overflows nor loses the tiny values for x ≪ 0
     * (x < 0: e/(1+e)). {@code out} may not alias {@code x}.
     */
    static void sigmoid(float[] x, float[] out, int from, int n) {
        for (int i = from, end = from + n; i < end; i += FLOATS) {
            FloatVector.fromArray(F, x, i).abs().neg().intoArray(out, i);
        }
        exp(out, from, n);
        FloatVector one = FloatVector.broadcast(F, 1f);
        for (int i = from, end = from + n; i < end; i += FLOATS) {
            FloatVector e = FloatVector.fromArray(F, out, i);
            FloatVector s = one.div(e.add(1f));
            s.blend(e.mul(s), FloatVector.fromArray(F, x, i).lt(0f)).intoArray(out, i);
        }
    }

    // ---------------------------------------------------------------- tanh

    // tanh(x) = x + x³·P(x²) on |x| ≤ 0.625 (relative error of the fit 4.8e-9).
    private static final float T0 = -3.333333433e-01f, T1 = 1.333330423e-01f, T2 = -5.395926535e-02f,
            T3 = 2.176894620e-02f, T4 = -8.344028145e-03f, T5 = 2.292828634e-03f;

    /**
     * out = tanh(x): the odd polynomial below |x| = 0.625, above it 1 − 2/(e^{2|x|} + 1) (no cancellation
     * there; saturates to ±1 when the exponential overflows). {@code out} may not alias {@code x}.
     */
    static void tanh(float[] x, float[] out, int from, int n) {
        for (int i = from, end = from + n; i < end; i += FLOATS) {
            FloatVector v = FloatVector.fromArray(F, x, i).abs();
            v.add(v).intoArray(out, i);
        }
        exp(out, from, n);
        FloatVector t0 = FloatVector.broadcast(F, T0), t1 = FloatVector.broadcast(F, T1), t2 = FloatVector.broadcast(F, T2),
                t3 = FloatVector.broadcast(F, T3), t4 = FloatVector.broadcast(F, T4), t5 = FloatVector.broadcast(F, T5);
        FloatVector one = FloatVector.broadcast(F, 1f), two = FloatVector.broadcast(F, 2f);
        for (int i = from, end = from + n; i < end; i += FLOATS) {
            FloatVector v = FloatVector.fromArray(F, x, i);
            FloatVector large = one.sub(two.div(FloatVector.fromArray(F, out, i).add(1f)));
            large = large.lanewise(VectorOperators.NEG, v.lt(0f));
            FloatVector s = v.mul(v);
            FloatVector p = s.fma(t5, t4);
            p = p.fma(s, t3);
            p = p.fma(s, t2);
            p = p.fma(s, t1);
            p = p.fma(s, t0);
            FloatVector small = v.mul(s).fma(p, v);
            large.blend(small, v.abs().lt(0.625f)).intoArray(out, i);
        }
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
     * out = x·Φ(x) = ½x(1 + erf(x/√2)). With z = |x|/√2: below 0.92, ½x + ½|x|·erf(z) with erf(z) = z·P(z²);
     * above, through erfc(z) = e^{−z²}·N(z)/D(z) (x ≥ 0: x(1 − ½erfc), x < 0: x·½erfc), so the negative
     * tail keeps its relative accuracy instead of cancelling in 1 + erf. The exponent z² = x²/2 is formed
     * exactly from x (hi + lo by FMA), not from the rounded z, whose error the tail would amplify by 2z².
     * {@code out} may not alias {@code x}.
     */
    static void geluErf(float[] x, float[] out, int from, int n) {
        for (int i = from, end = from + n; i < end; i += FLOATS) {
            FloatVector ax = FloatVector.fromArray(F, x, i).abs().min(17f); // erfc(17/√2) underflows
            ax.mul(ax).mul(-0.5f).intoArray(out, i);
        }
        exp(out, from, n); // e^{−hi/2}
        FloatVector r0 = FloatVector.broadcast(F, R0), r1 = FloatVector.broadcast(F, R1), r2 = FloatVector.broadcast(F, R2),
                r3 = FloatVector.broadcast(F, R3), r4 = FloatVector.broadcast(F, R4), r5 = FloatVector.broadcast(F, R5);
        FloatVector n0 = FloatVector.broadcast(F, N0), n1 = FloatVector.broadcast(F, N1), n2 = FloatVector.broadcast(F, N2),
                n3 = FloatVector.broadcast(F, N3), n4 = FloatVector.broadcast(F, N4);
        FloatVector d1 = FloatVector.broadcast(F, D1), d2 = FloatVector.broadcast(F, D2), d3 = FloatVector.broadcast(F, D3),
                d4 = FloatVector.broadcast(F, D4), one = FloatVector.broadcast(F, 1f), minusHalf = FloatVector.broadcast(F, -0.5f);
        for (int i = from, end = from + n; i < end; i += FLOATS) {
            FloatVector v = FloatVector.fromArray(F, x, i);
            FloatVector av = v.abs();
            FloatVector z = av.mul(INV_SQRT2);
            // small |x|
            FloatVector s = z.mul(z);
            FloatVector p = s.fma(r5, r4);
            p = p.fma(s, r3);
            p = p.fma(s, r2);
            p = p.fma(s, r1);
            p = p.fma(s, r0);
            FloatVector small = av.mul(0.5f).fma(z.mul(p), v.mul(0.5f));
            // tail
            FloatVector ax = av.min(17f);
            FloatVector zc = z.min(12f);
            FloatVector lo = ax.fma(ax, ax.mul(ax).neg()); // x² = hi + lo exactly
            FloatVector num = zc.fma(n4, n3);
            num = num.fma(zc, n2);
            num = num.fma(zc, n1);
            num = num.fma(zc, n0);
            FloatVector den = zc.fma(d4, d3);
            den = den.fma(zc, d2);
            den = den.fma(zc, d1);
            den = den.fma(zc, one);
            FloatVector halfErfc = FloatVector.fromArray(F, out, i).mul(lo.fma(minusHalf, one)).mul(num.div(den)).mul(0.5f);
            FloatVector tail = v.mul(one.sub(halfErfc).blend(halfErfc, v.lt(0f)));
            tail.blend(small, z.lt(ERF_SPLIT)).intoArray(out, i);
        }
    }

    // ---------------------------------------------------------------- sin / cos

    private static final float TWO_OVER_PI = 0.636619772f;
    // π/2 split into three floats; with FMA the reduction x − j·π/2 stays accurate while |j| < 2¹⁶.
    private static final float PIO2_1 = (float) (Math.PI / 2);
    private static final float PIO2_2 = (float) (Math.PI / 2 - PIO2_1);
    private static final float PIO2_3 = (float) (Math.PI / 2 - PIO2_1 - (double) PIO2_2);
    /** Beyond this the three-part reduction loses accuracy and lanes are computed with {@link Math}. */
    private static final float TRIG_LIMIT = 65536f;

    static void sin(float[] a, int from, int n) {
        trig(a, from, n, 0);
    }

    static void cos(float[] a, int from, int n) {
        trig(a, from, n, 1);
    }

    /**
     * a = sin(a + shift·π/2): j = round(a·2/π), r = a − j·π/2 with |r| ≤ π/4, then the Taylor series of sin
     * (truncation < 2e-9) or cos (< 1e-10) by the quadrant j + shift.
     */
    private static void trig(float[] a, int from, int n, int shift) {
        FloatVector twoOverPi = FloatVector.broadcast(F, TWO_OVER_PI), magic = FloatVector.broadcast(F, ROUND_MAGIC);
        FloatVector p1 = FloatVector.broadcast(F, -PIO2_1), p2 = FloatVector.broadcast(F, -PIO2_2);
        FloatVector p3 = FloatVector.broadcast(F, -PIO2_3);
        FloatVector s3 = FloatVector.broadcast(F, 1f / 362880), s2 = FloatVector.broadcast(F, -1f / 5040),
                s1 = FloatVector.broadcast(F, 1f / 120), s0 = FloatVector.broadcast(F, -1f / 6);
        FloatVector c4 = FloatVector.broadcast(F, -1f / 3628800), c3 = FloatVector.broadcast(F, 1f / 40320),
                c2 = FloatVector.broadcast(F, -1f / 720), c1 = FloatVector.broadcast(F, 1f / 24);
        FloatVector c0 = FloatVector.broadcast(F, -0.5f);
        FloatVector one = FloatVector.broadcast(F, 1f);
        for (int i = from, end = from + n; i < end; i += FLOATS) {
            FloatVector x = FloatVector.fromArray(F, a, i);
            if (x.abs().compare(VectorOperators.GT, TRIG_LIMIT).or(x.compare(VectorOperators.NE, x)).anyTrue()) { // or NaN
                for (int l = i; l < i + FLOATS; l++) a[l] = (float) (shift == 0 ? Math.sin(a[l]) : Math.cos(a[l]));
                continue;
            }
            FloatVector t = x.fma(twoOverPi, magic);
            FloatVector j = t.sub(ROUND_MAGIC);
            IntVector quadrant = t.reinterpretAsInts().sub(ROUND_MAGIC_BITS).add(shift);
            FloatVector r = j.fma(p1, x);
            r = j.fma(p2, r);
            r = j.fma(p3, r);
            FloatVector r2 = r.mul(r);
            FloatVector sp = r2.fma(s3, s2);
            sp = sp.fma(r2, s1);
            sp = sp.fma(r2, s0);
            FloatVector sinR = r.mul(r2).fma(sp, r);
            FloatVector cp = r2.fma(c4, c3);
            cp = cp.fma(r2, c2);
            cp = cp.fma(r2, c1);
            cp = cp.fma(r2, c0);
            FloatVector cosR = r2.fma(cp, one);
            VectorMask<Float> odd = quadrant.and(1).compare(VectorOperators.NE, 0).cast(F);
            VectorMask<Float> negate = quadrant.and(2).compare(VectorOperators.NE, 0).cast(F);
            sinR.blend(cosR, odd).lanewise(VectorOperators.NEG, negate).intoArray(a, i);
        }
    }
}
