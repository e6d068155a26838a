package dev.zoetrope.diffusion.schedulers;

import java.util.function.DoubleUnaryOperator;

/**
 * Adaptive 21-point Gauss–Kronrod quadrature with QUADPACK's error estimate — the rule {@code
 * scipy.integrate.quad} (QAGS) applies first, so for the smooth low-degree integrands of the LMS coefficients
 * it returns the same value after one panel. Where the estimate exceeds the tolerance the interval is bisected
 * (QAGS would also extrapolate; plain bisection suffices for polynomials).
 */
final class GaussKronrod {
    private GaussKronrod() {
    }

    // Abscissae of the 21-point Kronrod rule on [-1, 1] (odd positions 1, 3, … are the 10-point Gauss nodes),
    // and their weights; values by L. W. Fullerton (80-digit arithmetic) as in QUADPACK.
    private static final double[] XGK = {
            0.995657163025808080735527280689003, 0.973906528517171720077964012084452,
            0.930157491355708226001207180059508, 0.865063366688984510732096688423493,
            0.780817726586416897063717578345042, 0.679409568299024406234327365114874,
            0.562757134668604683339000099272694, 0.433395394129247190799265943165784,
            0.294392862701460198131126603103866, 0.148874338981631210884826001129720,
            0.0};
    private static final double[] WGK = {
            0.011694638867371874278064396062192, 0.032558162307964727478818972459390,
            0.054755896574351996031381300244580, 0.075039674810919952767043140916190,
            0.093125454583697605535065465083366, 0.109387158802297641899210590325805,
            0.123491976262065851077958109831074, 0.134709217311473325928054001771707,
            0.142775938577060080797094273138717, 0.147739104901338491374841515972068,
            0.149445554002916905664936468389821};
    private static final double[] WG = {
            0.066671344308688137593568809893332, 0.149451349150580593145776339657697,
            0.219086362515982043995534934228163, 0.269266719309996355091226921569469,
            0.295524224714752870173892994651338};

    private static final double EPMACH = Math.ulp(1.0);
    private static final double UFLOW = Double.MIN_NORMAL;
    private static final int MAX_DEPTH = 50;

    /** ∫_a^b f with relative tolerance epsrel and absolute tolerance epsabs (scipy's defaults: 1.49e-8 both). */
    static double integrate(DoubleUnaryOperator f, double a, double b, double epsabs, double epsrel) {
        double[] panel = qk21(f, a, b);
        double result = panel[0], abserr = panel[1], resabs = panel[2];
        double errbnd = Math.max(epsabs, epsrel * Math.abs(result));
        // QAGS stops after the first panel when the estimate is within tolerance, or when it is at roundoff level
        if ((abserr <= errbnd && abserr != resabs) || abserr == 0 || abserr <= 100 * EPMACH * resabs
                || !Double.isFinite(result)) {
            return result;
        }
        return bisect(f, a, b, epsabs, epsrel, 0);
    }

    private static double bisect(DoubleUnaryOperator f, double a, double b, double epsabs, double epsrel, int depth) {
        double mid = 0.5 * (a + b);
        double[] left = qk21(f, a, mid), right = qk21(f, mid, b);
        double result = left[0] + right[0];
        double err = left[1] + right[1];
        if (depth >= MAX_DEPTH || err <= Math.max(epsabs, epsrel * Math.abs(result))) return result;
        return bisect(f, a, mid, epsabs / 2, epsrel, depth + 1) + bisect(f, mid, b, epsabs / 2, epsrel, depth + 1);
    }

    /** One 21-point panel: {result, abserr, resabs}, summed in QUADPACK's order (dqk21). */
    static double[] qk21(DoubleUnaryOperator f, double a, double b) {
        double centr = 0.5 * (a + b);
        double hlgth = 0.5 * (b - a);
        double dhlgth = Math.abs(hlgth);
        double[] fv1 = new double[10], fv2 = new double[10];
        double resg = 0;
        double fc = f.applyAsDouble(centr);
        double resk = WGK[10] * fc;
        double resabs = Math.abs(resk);
        for (int j = 0; j < 5; j++) { // Gauss nodes: XGK[1], XGK[3], …
            int jtw = 2 * j + 1;
            double absc = hlgth * XGK[jtw];
            double fval1 = f.applyAsDouble(centr - absc);
            double fval2 = f.applyAsDouble(centr + absc);
            fv1[jtw] = fval1;
            fv2[jtw] = fval2;
            double fsum = fval1 + fval2;
            resg += WG[j] * fsum;
            resk += WGK[jtw] * fsum;
            resabs += WGK[jtw] * (Math.abs(fval1) + Math.abs(fval2));
        }
        for (int j = 0; j < 5; j++) { // Kronrod-only nodes: XGK[0], XGK[2], …
            int jtwm1 = 2 * j;
            double absc = hlgth * XGK[jtwm1];
            double fval1 = f.applyAsDouble(centr - absc);
            double fval2 = f.applyAsDouble(centr + absc);
            fv1[jtwm1] = fval1;
            fv2[jtwm1] = fval2;
            double fsum = fval1 + fval2;
            resk += WGK[jtwm1] * fsum;
            resabs += WGK[jtwm1] * (Math.abs(fval1) + Math.abs(fval2));
        }
        double reskh = resk * 0.5;
        double resasc = WGK[10] * Math.abs(fc - reskh);
        for (int j = 0; j < 10; j++) resasc += WGK[j] * (Math.abs(fv1[j] - reskh) + Math.abs(fv2[j] - reskh));
        double result = resk * hlgth;
        resabs *= dhlgth;
        resasc *= dhlgth;
        double abserr = Math.abs((resk - resg) * hlgth);
        if (resasc != 0 && abserr != 0) abserr = resasc * Math.min(1, Math.pow(200 * abserr / resasc, 1.5));
        if (resabs > UFLOW / (50 * EPMACH)) abserr = Math.max(EPMACH * 50 * resabs, abserr);
        return new double[] {result, abserr, resabs};
    }
}
