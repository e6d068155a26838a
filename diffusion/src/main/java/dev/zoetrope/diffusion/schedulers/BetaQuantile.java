package dev.zoetrope.diffusion.schedulers;

/**
 * The quantile function (inverse CDF) of the Beta(α, β) distribution, for diffusers' {@code use_beta_sigmas}
 * (which calls {@code scipy.stats.beta.ppf}): bisection on the regularized incomplete beta function
 * I_x(α, β), evaluated with its continued fraction (modified Lentz), down to adjacent doubles.
 */
final class BetaQuantile {
    private BetaQuantile() {
    }

    private static final double EPS = 1e-16;
    private static final double TINY = 1e-300;
    // Lanczos approximation, g = 7, n = 9
    private static final double[] LANCZOS = {0.99999999999980993, 676.5203681218851, -1259.1392167224028,
            771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
            9.9843695780195716e-6, 1.5056327351493116e-7};

    /** x with I_x(α, β) = q, for q in [0, 1]. */
    static double ppf(double q, double alpha, double beta) {
        if (!(q >= 0 && q <= 1)) throw new IllegalArgumentException("quantile level must be in [0, 1], got " + q);
        if (q == 0) return 0;
        if (q == 1) return 1;
        double lo = 0, hi = 1;
        for (int i = 0; i < 2200; i++) {
            double mid = 0.5 * (lo + hi);
            if (mid <= lo || mid >= hi) break;
            if (regularizedIncompleteBeta(mid, alpha, beta) < q) lo = mid;
            else hi = mid;
        }
        // lo and hi are adjacent doubles (or the search hit its cap): take the one whose CDF is nearer q
        return q - regularizedIncompleteBeta(lo, alpha, beta) <= regularizedIncompleteBeta(hi, alpha, beta) - q ? lo : hi;
    }

    /** I_x(a, b), the Beta(a, b) CDF at x. */
    static double regularizedIncompleteBeta(double x, double a, double b) {
        if (x <= 0) return 0;
        if (x >= 1) return 1;
        double front = Math.exp(a * Math.log(x) + b * Math.log1p(-x) - logBeta(a, b));
        if (x < (a + 1) / (a + b + 2)) return front * continuedFraction(x, a, b) / a;
        return 1 - front * continuedFraction(1 - x, b, a) / b;
    }

    private static double continuedFraction(double x, double a, double b) {
        double qab = a + b, qap = a + 1, qam = a - 1;
        double c = 1, d = 1 - qab * x / qap;
        if (Math.abs(d) < TINY) d = TINY;
        d = 1 / d;
        double h = d;
        for (int m = 1; m <= 1000; m++) {
            int m2 = 2 * m;
            double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
            d = 1 + aa * d;
            if (Math.abs(d) < TINY) d = TINY;
            c = 1 + aa / c;
            if (Math.abs(c) < TINY) c = TINY;
            d = 1 / d;
            h *= d * c;
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
            d = 1 + aa * d;
            if (Math.abs(d) < TINY) d = TINY;
            c = 1 + aa / c;
            if (Math.abs(c) < TINY) c = TINY;
            d = 1 / d;
            double delta = d * c;
            h *= delta;
            if (Math.abs(delta - 1) < EPS) break;
        }
        return h;
    }

    static double logBeta(double a, double b) {
        return logGamma(a) + logGamma(b) - logGamma(a + b);
    }

    /** ln Γ(x) for x &gt; 0 (Lanczos; reflection below 1/2). */
    static double logGamma(double x) {
        if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
        x -= 1;
        double sum = LANCZOS[0];
        double t = x + 7.5;
        for (int i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i] / (x + i);
        return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(sum);
    }

    /**
     * diffusers' {@code _convert_to_beta}: σ_min + ppf(1 − i/(n−1); α, β)·(σ_max − σ_min), from σ_max down to
     * σ_min, with α = β = 0.6.
     */
    static double[] betaSigmas(double sigmaMin, double sigmaMax, int n) {
        double[] ramp = NumpyCompat.linspace(0, 1, n);
        double[] sigmas = new double[n];
        for (int i = 0; i < n; i++) sigmas[i] = sigmaMin + BetaQuantile.ppf(1 - ramp[i], 0.6, 0.6) * (sigmaMax - sigmaMin);
        return sigmas;
    }
}
