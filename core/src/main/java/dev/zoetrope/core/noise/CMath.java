package dev.zoetrope.core.noise;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The C math functions torch's CPU sampling kernels call ({@code log}, {@code log1p}, {@code sin}, {@code cos}
 * and their float versions). Reproducing torch's float64 normals bit for bit needs the very same libm: glibc's
 * log, sin and cos are not correctly rounded, and neither Java's StrictMath (fdlibm) nor Math agrees with them
 * on every input (on the rng fixtures Math differs in the last bit for about 0.2% of float64 values, StrictMath
 * for about 6%). So {@link #platform()} calls the platform's C library through the FFM API: on Linux that is
 * glibc, the library torch itself uses there, and on any other OS it is again the library torch would call.
 * {@link #JAVA} is the fallback when native calls are unavailable (or disabled with
 * {@code -Dzoetrope.nativeLibm=false}).
 */
abstract class CMath {
    abstract double log(double x);

    abstract double log1p(double x);

    abstract double sin(double x);

    abstract double cos(double x);

    abstract float logf(float x);

    abstract float sinf(float x);

    abstract float cosf(float x);

    /** True when this calls the platform C library. */
    abstract boolean isNative();

    /** Pure Java: {@link Math} for double (nearly always glibc's result), float versions via double. */
    static final CMath JAVA = new CMath() {
        @Override
        double log(double x) {
            return Math.log(x);
        }

        @Override
        double log1p(double x) {
            return StrictMath.log1p(x); // fdlibm's log1p, the algorithm glibc uses too
        }

        @Override
        double sin(double x) {
            return Math.sin(x);
        }

        @Override
        double cos(double x) {
            return Math.cos(x);
        }

        @Override
        float logf(float x) {
            return (float) StrictMath.log(x);
        }

        @Override
        float sinf(float x) {
            return (float) StrictMath.sin(x);
        }

        @Override
        float cosf(float x) {
            return (float) StrictMath.cos(x);
        }

        @Override
        boolean isNative() {
            return false;
        }
    };

    private static final CMath PLATFORM = loadNative();

    /** The platform C library when it can be called, otherwise {@link #JAVA}. */
    static CMath platform() {
        return PLATFORM;
    }

    private static CMath loadNative() {
        if ("false".equalsIgnoreCase(System.getProperty("zoetrope.nativeLibm"))) return JAVA;
        try {
            return new Native();
        } catch (Throwable e) { // no native access, no such symbol, unsupported platform: use Java
            return JAVA;
        }
    }

    /** Downcalls into the C library (symbols found through the linker's default lookup: libc + libm). */
    private static final class Native extends CMath {
        private final MethodHandle log;
        private final MethodHandle log1p;
        private final MethodHandle sin;
        private final MethodHandle cos;
        private final MethodHandle logf;
        private final MethodHandle sinf;
        private final MethodHandle cosf;

        Native() {
            Linker linker = Linker.nativeLinker();
            SymbolLookup lookup = linker.defaultLookup();
            FunctionDescriptor d = FunctionDescriptor.of(ValueLayout.JAVA_DOUBLE, ValueLayout.JAVA_DOUBLE);
            FunctionDescriptor f = FunctionDescriptor.of(ValueLayout.JAVA_FLOAT, ValueLayout.JAVA_FLOAT);
            log = handle(linker, lookup, "log", d);
            log1p = handle(linker, lookup, "log1p", d);
            sin = handle(linker, lookup, "sin", d);
            cos = handle(linker, lookup, "cos", d);
            logf = handle(linker, lookup, "logf", f);
            sinf = handle(linker, lookup, "sinf", f);
            cosf = handle(linker, lookup, "cosf", f);
            if (Double.doubleToRawLongBits(log(1.0)) != 0 || cos(0.0) != 1.0) throw new IllegalStateException("libm sanity");
        }

        private static MethodHandle handle(Linker linker, SymbolLookup lookup, String name, FunctionDescriptor descriptor) {
            return linker.downcallHandle(lookup.find(name).orElseThrow(() -> new IllegalStateException("no " + name)),
                    descriptor, Linker.Option.critical(false));
        }

        private static double call(MethodHandle h, double x) {
            try {
                return (double) h.invokeExact(x);
            } catch (Throwable e) {
                throw new IllegalStateException("libm call failed", e);
            }
        }

        private static float call(MethodHandle h, float x) {
            try {
                return (float) h.invokeExact(x);
            } catch (Throwable e) {
                throw new IllegalStateException("libm call failed", e);
            }
        }

        @Override
        double log(double x) {
            return call(log, x);
        }

        @Override
        double log1p(double x) {
            return call(log1p, x);
        }

        @Override
        double sin(double x) {
            return call(sin, x);
        }

        @Override
        double cos(double x) {
            return call(cos, x);
        }

        @Override
        float logf(float x) {
            return call(logf, x);
        }

        @Override
        float sinf(float x) {
            return call(sinf, x);
        }

        @Override
        float cosf(float x) {
            return call(cosf, x);
        }

        @Override
        boolean isNative() {
            return true;
        }
    }
}
