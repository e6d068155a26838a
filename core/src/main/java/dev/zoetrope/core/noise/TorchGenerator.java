package dev.zoetrope.core.noise;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.util.Arrays;

/**
 * PyTorch's CPU random number generator, bit for bit: {@code torch.Generator("cpu").manual_seed(seed)}
 * followed by {@code torch.randn}, {@code torch.rand} and {@code torch.randint} on it give the same values
 * here, so a seed gives the same starting noise as a diffusers pipeline run with that seed.
 *
 * <h2>What torch does, and what is reproduced (checked against the rng fixtures of torch 2.11, x86-64)</h2>
 * <ul>
 *   <li>Engine: MT19937 seeded with the low 32 bits of the 64-bit seed; {@link #initialSeed()} keeps all 64
 *       (negative seeds map to {@code seed + 2^64}, as torch does).</li>
 *   <li>{@code randn} with fewer than 16 elements (any dtype): element-wise Box–Muller in double with the
 *       generator's one-value cache, which survives across calls and dtypes; float16/bfloat16 round the double
 *       via float.</li>
 *   <li>{@code randn} float32 with 16 or more elements: all uniforms first, then blocks of 16 through the AVX2
 *       kernel's float polynomials ({@link CephesFloatMath}), with torch's re-drawn tail block when the size is
 *       not a multiple of 16. This is what torch computes on any x86-64 CPU with AVX2 (every such CPU of the
 *       last decade); torch builds without AVX2 (e.g. aarch64) use libm floats there and differ in the last
 *       bit, and are not reproduced.</li>
 *   <li>{@code randn} float64 with 16 or more elements: the same blocks in double with the C library's log,
 *       sin and cos ({@link CMath}: the platform libm through FFM, so glibc on Linux exactly as torch; without
 *       native access a Java fallback differs in the last bit for about 0.2% of values).</li>
 *   <li>{@code randn} float16/bfloat16 with 16 or more elements: torch's reduced-precision path, where the
 *       uniforms carry only 11 (float16) / 8 (bfloat16) random bits and every step of the block rounds to the
 *       reduced type.</li>
 *   <li>{@code rand} (24 random bits for float32, 53 for float64, 11/8 for float16/bfloat16) and
 *       {@code randint} (one 32-bit draw per value, a 64-bit draw when the range is 2^32 or more).</li>
 * </ul>
 * Only contiguous outputs are produced, as torch's {@code randn(shape)} gives.
 *
 * <p>One generator is a sequential stream: use it from one thread at a time (methods are synchronized only
 * so that concurrent use cannot corrupt the state).
 */
public final class TorchGenerator {
    /** The seed of a fresh {@code torch.Generator()} ({@code c10::detail::default_rng_seed_val}). */
    public static final long DEFAULT_SEED = 67280421310721L;

    private static final BigInteger MIN_SEED = BigInteger.valueOf(Long.MIN_VALUE);
    private static final BigInteger MAX_SEED = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
    private static final float FLOAT_DIVISOR = 1.0f / (1 << 24);
    private static final double DOUBLE_DIVISOR = 1.0 / (1L << 53);
    private static final float TWO_PI_FLOAT = (float) (2.0 * Math.PI);
    private static final double TWO_PI = 2.0 * Math.PI;

    private final CMath libm;
    private long initialSeed;
    private Mt19937 engine;
    /** torch's next_double_normal_sample: the sine half of the last element-wise Box–Muller pair. */
    private boolean hasCachedNormal;
    private double cachedNormal;

    /** A generator with torch's default seed, like {@code torch.Generator()}. */
    public TorchGenerator() {
        this(CMath.platform());
    }

    /** A generator computing with the given C math functions (tests use {@link CMath#JAVA}). */
    TorchGenerator(CMath libm) {
        this.libm = libm;
        manualSeed(DEFAULT_SEED);
    }

    /** {@code torch.Generator("cpu").manual_seed(seed)}; a negative seed means {@code seed + 2^64}. */
    public static TorchGenerator seeded(long seed) {
        return new TorchGenerator().manualSeed(seed);
    }

    /** Like {@link #seeded(long)} for a decimal seed in [-2^63, 2^64 - 1] (see {@link #parseSeed}). */
    public static TorchGenerator seeded(String decimalSeed) {
        return seeded(parseSeed(decimalSeed));
    }

    private TorchGenerator(TorchGenerator other) {
        libm = other.libm;
        initialSeed = other.initialSeed;
        engine = other.engine.copy();
        hasCachedNormal = other.hasCachedNormal;
        cachedNormal = other.cachedNormal;
    }

    /**
     * Reseeds: stores the 64-bit seed, clears the cached normal value and seeds MT19937 with the low
     * 32 bits (so seeds that agree there give the same stream, as in torch). Returns this generator.
     */
    public synchronized TorchGenerator manualSeed(long seed) {
        initialSeed = seed;
        hasCachedNormal = false;
        cachedNormal = 0;
        engine = new Mt19937((int) seed);
        return this;
    }

    /** {@link #manualSeed(long)} for any integer torch accepts: [-2^63, 2^64 - 1]. */
    public TorchGenerator manualSeed(BigInteger seed) {
        return manualSeed(checkedSeed(seed, seed.toString()));
    }

    /**
     * Parses a seed as Python's {@code manual_seed} accepts it: a decimal integer in [-2^63, 2^64 - 1],
     * returned as its 64 bits (values of 2^63 and above come back negative, as unsigned bits). Outside that
     * range torch raises "Overflow when unpacking long long"; this throws an IllegalArgumentException.
     */
    public static long parseSeed(String decimal) {
        BigInteger value;
        try {
            value = new BigInteger(decimal.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("seed '" + decimal + "' is not an integer");
        }
        return checkedSeed(value, decimal);
    }

    private static long checkedSeed(BigInteger value, String text) {
        if (value.compareTo(MIN_SEED) < 0 || value.compareTo(MAX_SEED) > 0) {
            throw new IllegalArgumentException("seed " + text + " is outside [-2^63, 2^64-1]"
                    + " (torch raises 'Overflow when unpacking long long')");
        }
        return value.longValue();
    }

    /** The seed as torch stores it: 64 bits, to be read unsigned ({@link #initialSeedString()}). */
    public synchronized long initialSeed() {
        return initialSeed;
    }

    /** {@code str(g.initial_seed())}: the unsigned decimal value. */
    public synchronized String initialSeedString() {
        return Long.toUnsignedString(initialSeed);
    }

    /** An independent generator in the same state (torch: {@code g2.set_state(g.get_state())}). */
    public synchronized TorchGenerator copy() {
        return new TorchGenerator(this);
    }

    // ------------------------------------------------------------------ scalar draws

    /** torch {@code random()}: the next 32-bit engine output, as unsigned bits in an int. */
    public synchronized int random() {
        return engine.nextInt();
    }

    /** torch {@code random64()}: two outputs, the first in the high half. */
    public synchronized long random64() {
        return random64Unlocked();
    }

    private long random64Unlocked() {
        long hi = engine.nextInt() & 0xffffffffL;
        long lo = engine.nextInt() & 0xffffffffL;
        return (hi << 32) | lo;
    }

    private float uniformFloat() {
        return (engine.nextInt() & 0xffffff) * FLOAT_DIVISOR;
    }

    private double uniformDouble() {
        return (random64Unlocked() & ((1L << 53) - 1)) * DOUBLE_DIVISOR;
    }

    /** torch's {@code normal_distribution<double>}: Box–Muller with a one-value cache (mean 0, std 1). */
    private double normalDouble() {
        if (hasCachedNormal) {
            hasCachedNormal = false;
            return cachedNormal * 1.0 + 0.0; // transformation::normal(ret, mean=0, std=1): -0.0 becomes +0.0
        }
        double u1 = uniformDouble();
        double u2 = uniformDouble();
        double r = Math.sqrt(-2.0 * libm.log1p(-u2));
        double theta = TWO_PI * u1;
        cachedNormal = r * libm.sin(theta);
        hasCachedNormal = true;
        return r * libm.cos(theta) * 1.0 + 0.0;
    }

    // ------------------------------------------------------------------ arrays

    /** {@code torch.randn((n,), generator=g, dtype=torch.float32)} as an array. */
    public synchronized float[] randnFloats(int n) {
        requireCount(n);
        float[] out = new float[n];
        if (n < 16) {
            for (int i = 0; i < n; i++) out[i] = (float) normalDouble();
            return out;
        }
        for (int i = 0; i < n; i++) out[i] = uniformFloat();
        for (int i = 0; i + 16 <= n; i += 16) normalFill16Float(out, i);
        if (n % 16 != 0) {
            int tail = n - 16; // 16 fresh uniforms overwrite the last 16 values, then one more block
            for (int i = 0; i < 16; i++) out[tail + i] = uniformFloat();
            normalFill16Float(out, tail);
        }
        return out;
    }

    /** {@code torch.randn((n,), generator=g, dtype=torch.float64)} as an array. */
    public synchronized double[] randnDoubles(int n) {
        requireCount(n);
        double[] out = new double[n];
        if (n < 16) {
            for (int i = 0; i < n; i++) out[i] = normalDouble();
            return out;
        }
        for (int i = 0; i < n; i++) out[i] = uniformDouble();
        for (int i = 0; i + 16 <= n; i += 16) normalFill16Double(out, i);
        if (n % 16 != 0) {
            int tail = n - 16;
            for (int i = 0; i < 16; i++) out[tail + i] = uniformDouble();
            normalFill16Double(out, tail);
        }
        return out;
    }

    /** {@code torch.rand((n,), generator=g, dtype=torch.float32)}: 24 random bits per value. */
    public synchronized float[] randFloats(int n) {
        requireCount(n);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) out[i] = uniformFloat();
        return out;
    }

    /** {@code torch.rand((n,), generator=g, dtype=torch.float64)}: 53 random bits per value. */
    public synchronized double[] randDoubles(int n) {
        requireCount(n);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) out[i] = uniformDouble();
        return out;
    }

    /**
     * {@code torch.randint(low, high, (n,), generator=g)} (int64): {@code draw % (high - low) + low} with one
     * 32-bit draw per value, or a 64-bit draw when the range is 2^32 or more.
     */
    public synchronized long[] randintLongs(long low, long high, int n) {
        requireCount(n);
        if (low >= high) {
            throw new IllegalArgumentException("randint: low (" + low + ") must be less than high (" + high + ")");
        }
        long range = high - low; // unsigned: up to 2^64 - 1
        boolean wide = Long.compareUnsigned(range, 1L << 32) >= 0;
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            long draw = wide ? random64Unlocked() : engine.nextInt() & 0xffffffffL;
            out[i] = Long.remainderUnsigned(draw, range) + low;
        }
        return out;
    }

    /**
     * {@code torch.empty(n).exponential_(lambd, generator=g)} in float32 as torch's default CPU kernel computes
     * it (DistributionTemplates' exponential_kernel): element by element, a 53-bit uniform u from one
     * {@code random64()}, then {@code -1/λ · log1p(-u)} in double ({@link CMath}: the C library's log1p), rounded
     * to float. Checked against torch 2.6.0's printed values (pytorch/pytorch issue 150538).
     *
     * <p>Which torch builds run this kernel: every build up to 2.6, and later builds without Intel MKL
     * (aarch64, macOS). x86-64 builds of torch 2.7 and later with MKL draw exponential_ instead from a separate
     * MKL stream (VSL Philox4x32-10 in an MKL generator, transformed by MKL's single-precision exponential,
     * whose log is not specified to the bit): those draws are not reproduced.
     */
    public synchronized float[] exponentialFloats(int n, double lambda) {
        requireCount(n);
        if (!(lambda > 0) || Double.isInfinite(lambda)) {
            throw new IllegalArgumentException("exponential_ expects lambda > 0.0, but found lambda=" + lambda);
        }
        float[] out = new float[n];
        double scale = -1.0 / lambda;
        for (int i = 0; i < n; i++) out[i] = (float) (scale * libm.log1p(-uniformDouble()));
        return out;
    }

    /**
     * {@code torch.multinomial(probs, 1, generator=g)} for one distribution on the CPU, bit for bit: torch
     * draws one sample without replacement as {@code argmax(probs / q)} with {@code q = exponential_(1)} over
     * every category (the Gumbel-max trick), so a draw consumes {@code probs.length} 64-bit outputs whatever
     * the probabilities. The division is float32, ties go to the first index, and a NaN quotient (a zero
     * probability over a zero q, chance 2^-53) wins as torch's argmax lets it. For a batch [B, V] torch fills
     * q row by row: call this once per row, in order. The probabilities need not be normalised; torch's checks
     * are made (no inf, NaN or negative entry, a positive sum). Bit-exact with torch's default CPU kernel, so with
     * the torch builds listed at {@link #exponentialFloats}.
     */
    public synchronized int multinomialOne(float[] probs) {
        if (probs.length == 0) throw new IllegalArgumentException("multinomial: the distribution is empty");
        double sum = 0;
        for (float p : probs) {
            if (!(p >= 0) || p == Float.POSITIVE_INFINITY) {
                throw new IllegalArgumentException("probability tensor contains either `inf`, `nan` or element < 0");
            }
            sum += p;
        }
        if (sum == 0) throw new IllegalArgumentException("invalid multinomial distribution (sum of probabilities <= 0)");
        float[] q = exponentialFloats(probs.length, 1.0);
        int best = 0;
        float bestValue = probs[0] / q[0];
        for (int i = 1; i < probs.length; i++) {
            float v = probs[i] / q[i];
            if (v > bestValue || (Float.isNaN(v) && !Float.isNaN(bestValue))) {
                best = i;
                bestValue = v;
            }
        }
        return best;
    }

    /** Advances the stream past {@code n} 64-bit draws (what {@link #multinomialOne} over n categories consumes). */
    public synchronized void skip64(long n) {
        for (long i = 0; i < n; i++) random64Unlocked();
    }

    // ------------------------------------------------------------------ tensors

    /**
     * {@code torch.randn(shape, generator=g, dtype=dtype)} as a contiguous tensor in the current scope.
     * F32 and F64 for any size; F16 and BF16 only below 16 elements (see the class comment).
     */
    public Tensor randn(DType dtype, int... shape) {
        int n = count(shape);
        return switch (dtype) {
            case F32 -> floats(randnFloats(n), shape);
            case F64 -> doubles(randnDoubles(n), shape);
            case F16, BF16 -> reduced(dtype, randnReduced(dtype == DType.BF16, n), shape);
            default -> throw new IllegalArgumentException("randn: dtype " + dtype + " is not floating point");
        };
    }

    /** {@code torch.rand(shape, generator=g, dtype=dtype)} as a contiguous tensor in the current scope. */
    public Tensor rand(DType dtype, int... shape) {
        int n = count(shape);
        return switch (dtype) {
            case F32 -> floats(randFloats(n), shape);
            case F64 -> doubles(randDoubles(n), shape);
            case F16, BF16 -> {
                Reduced type = dtype == DType.BF16 ? Reduced.BF16 : Reduced.F16;
                float[] values = new float[n];
                synchronized (this) {
                    for (int i = 0; i < n; i++) values[i] = uniformReduced(type);
                }
                yield reduced(dtype, values, shape);
            }
            default -> throw new IllegalArgumentException("rand: dtype " + dtype + " is not floating point");
        };
    }

    /** {@code torch.randint(low, high, shape, generator=g)}: an I64 tensor in the current scope. */
    public Tensor randint(long low, long high, int... shape) {
        long[] values = randintLongs(low, high, count(shape));
        return Tensor.ofLongs(values, shape.clone());
    }

    // ------------------------------------------------------------------ the 16-value Box–Muller blocks

    /** {@code normal_fill_16_AVX2}: d[j], d[j+8] (uniforms) become r·cos θ, r·sin θ for j in 0..7. */
    private static void normalFill16Float(float[] d, int at) {
        for (int j = 0; j < 8; j++) {
            float u1 = 1f - d[at + j];
            float u2 = d[at + j + 8];
            float radius = (float) Math.sqrt(-2f * CephesFloatMath.log(u1)); // correctly rounded, as sqrt_ps
            float theta = TWO_PI_FLOAT * u2;
            long sinCos = CephesFloatMath.sinCos(theta);
            d[at + j] = Math.fma(radius * CephesFloatMath.cosOf(sinCos), 1f, 0f);
            d[at + j + 8] = Math.fma(radius * CephesFloatMath.sinOf(sinCos), 1f, 0f);
        }
    }

    /** {@code normal_fill_16<double>}: the same block in double with the C library's functions. */
    private void normalFill16Double(double[] d, int at) {
        for (int j = 0; j < 8; j++) {
            double u1 = 1 - d[at + j];
            double u2 = d[at + j + 8];
            double radius = Math.sqrt(-2 * libm.log(u1));
            double theta = TWO_PI * u2;
            // radius * cos(theta) * std + mean, contracted to one fma by the C++ compiler (std 1, mean 0)
            d[at + j] = Math.fma(radius * libm.cos(theta), 1.0, 0.0);
            d[at + j + 8] = Math.fma(radius * libm.sin(theta), 1.0, 0.0);
        }
    }

    // ------------------------------------------------------------------ float16 / bfloat16

    /** The reduced float types: how many random bits their uniforms carry and how a float rounds to them. */
    private enum Reduced {
        F16(11), BF16(8);

        final int digits;

        Reduced(int digits) {
            this.digits = digits;
        }

        /** Rounds to the type (nearest even) and widens back: the value a c10::Half / c10::BFloat16 holds. */
        float round(float f) {
            return this == F16 ? Float.float16ToFloat(Float.floatToFloat16(f)) : DType.bf16ToFloat(DType.floatToBf16(f));
        }
    }

    /** {@code uniform_real_distribution<Half/BFloat16>}: as many random bits as the type has digits. */
    private float uniformReduced(Reduced type) {
        return (engine.nextInt() & ((1 << type.digits) - 1)) * (1.0f / (1 << type.digits)); // exact in the type
    }

    /** {@code torch.randn((n,), dtype=float16/bfloat16)} as the exact values the reduced type holds. */
    private synchronized float[] randnReduced(boolean bf16, int n) {
        Reduced type = bf16 ? Reduced.BF16 : Reduced.F16;
        float[] out = new float[n];
        if (n < 16) {
            for (int i = 0; i < n; i++) out[i] = type.round((float) normalDouble()); // double -> float -> type
            return out;
        }
        for (int i = 0; i < n; i++) out[i] = uniformReduced(type);
        for (int i = 0; i + 16 <= n; i += 16) normalFill16Reduced(type, out, i);
        if (n % 16 != 0) {
            int tail = n - 16;
            for (int i = 0; i < 16; i++) out[tail + i] = uniformReduced(type);
            normalFill16Reduced(type, out, tail);
        }
        return out;
    }

    /**
     * {@code normal_fill_16<Half/BFloat16>}: each arithmetic step of the C++ template is done in float and
     * rounded back to the reduced type, and c10's math overloads (log, sqrt, cos, sin of a Half) round their
     * float results to it as well.
     */
    private void normalFill16Reduced(Reduced type, float[] d, int at) {
        final float std = 1f;
        final float mean = 0f;
        for (int j = 0; j < 8; j++) {
            float u1 = type.round(1f - d[at + j]);
            float u2 = d[at + j + 8];
            float radius = type.round((float) Math.sqrt(type.round(-2f * type.round(libm.logf(u1)))));
            float theta = type.round((float) (TWO_PI * u2)); // double product, converted via float
            float cos = type.round(libm.cosf(theta));
            float sin = type.round(libm.sinf(theta));
            d[at + j] = type.round(type.round(type.round(radius * cos) * std) + mean);
            d[at + j + 8] = type.round(type.round(type.round(radius * sin) * std) + mean);
        }
    }

    // ------------------------------------------------------------------ helpers

    private static int count(int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            n *= d;
            if (n > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has more than 2^31 - 9 elements");
            }
        }
        return (int) n;
    }

    private static void requireCount(int n) {
        if (n < 0) throw new IllegalArgumentException("negative element count " + n);
    }

    private static Tensor floats(float[] values, int[] shape) {
        Tensor t = Tensor.empty(DType.F32, shape);
        MemorySegment.copy(values, 0, t.segment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, values.length);
        return t;
    }

    private static Tensor doubles(double[] values, int[] shape) {
        Tensor t = Tensor.empty(DType.F64, shape);
        MemorySegment.copy(values, 0, t.segment(), ValueLayout.JAVA_DOUBLE_UNALIGNED, 0, values.length);
        return t;
    }

    /** Values already representable in F16/BF16, stored as that type. */
    private static Tensor reduced(DType dtype, float[] values, int[] shape) {
        Tensor t = Tensor.empty(dtype, shape);
        MemorySegment s = t.segment();
        for (int i = 0; i < values.length; i++) {
            short bits = dtype == DType.F16 ? Float.floatToFloat16(values[i]) : DType.floatToBf16(values[i]);
            s.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, bits);
        }
        return t;
    }
}
