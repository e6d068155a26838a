package dev.zoetrope.core.cpu;

/** Double-precision references written independently of the kernels. */
final class ReferenceMath {
    private ReferenceMath() {
    }

    /** erfc with full relative accuracy in the right tail (continued fraction), 1 − erf elsewhere. */
    static double erfc(double x) {
        if (x < 2.5) return 1 - erf(x);
        double f = x;
        for (int n = 80; n >= 1; n--) f = x + (n / 2.0) / f;
        return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
    }

    /** GELU x·Φ(x) = ½x·erfc(−x/√2), accurate in both tails. */
    static double gelu(double x) {
        return 0.5 * x * erfc(-x / Math.sqrt(2));
    }

    /** erf by its Maclaurin series for |x| < 2.5, else by the continued fraction of erfc (both ~1e-14). */
    static double erf(double x) {
        double ax = Math.abs(x);
        double r;
        if (ax < 2.5) {
            double term = ax, sum = ax, x2 = ax * ax;
            for (int n = 1; n < 200; n++) {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.abs(add) < 1e-18 * Math.abs(sum)) break;
            }
            r = 2 / Math.sqrt(Math.PI) * sum;
        } else {
            // erfc(x) = e^{-x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))), evaluated bottom-up
            double f = ax;
            for (int n = 80; n >= 1; n--) f = ax + (n / 2.0) / f;
            r = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
        }
        return x < 0 ? -r : r;
    }
}
