package dev.zoetrope.diffusion.schedulers;

/**
 * The few NumPy routines diffusers' schedulers call while building timestep and sigma tables, reproduced with
 * NumPy's own float64 arithmetic so that the tables come out bit-identical (then cast to float32 where diffusers
 * casts).
 */
final class NumpyCompat {
    private NumpyCompat() {
    }

    /** {@code np.linspace(start, stop, num)} (endpoint included): {@code i·step + start}, last value exactly stop. */
    static double[] linspace(double start, double stop, int num) {
        if (num < 0) throw new IllegalArgumentException("linspace needs num >= 0, got " + num);
        double[] y = new double[num];
        int div = num - 1;
        double delta = stop - start;
        if (div > 0) {
            double step = delta / div;
            if (step == 0) {
                for (int i = 0; i < num; i++) y[i] = (i / (double) div) * delta + start;
            } else {
                for (int i = 0; i < num; i++) y[i] = i * step + start;
            }
            y[num - 1] = stop;
        } else {
            for (int i = 0; i < num; i++) y[i] = i * delta + start;
        }
        return y;
    }

    /**
     * {@code np.arange(start, stop, step)} with a float step: length {@code ceil((stop − start)/step)}, element i
     * = {@code start + i·((start + step) − start)} as NumPy's fill routine computes it.
     */
    static double[] arange(double start, double stop, double step) {
        if (step == 0) throw new IllegalArgumentException("arange step must not be zero");
        double len = Math.ceil((stop - start) / step);
        if (!(len > 0)) return new double[0];
        if (len > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("arange too long: " + len);
        int n = (int) len;
        double[] y = new double[n];
        y[0] = start;
        if (n > 1) {
            double delta = (start + step) - start;
            y[1] = start + step;
            for (int i = 2; i < n; i++) y[i] = start + i * delta;
        }
        return y;
    }

    /** {@code np.round}: round half to even. */
    static double[] round(double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = Math.rint(x[i]);
        return y;
    }

    /**
     * {@code np.interp(x, arange(fp.length), fp)} in float64 as NumPy computes it: {@code slope·(x − xp[j]) +
     * fp[j]} with {@code slope = (fp[j+1] − fp[j]) / (xp[j+1] − xp[j])}; values outside take the end points.
     */
    static double[] interpOverIndex(double[] x, float[] fp) {
        int n = fp.length;
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double v = x[i];
            if (Double.isNaN(v)) {
                out[i] = v;
            } else if (v >= n - 1) {
                out[i] = fp[n - 1];
            } else if (v < 0) {
                out[i] = fp[0];
            } else {
                int j = (int) Math.floor(v);
                double slope = ((double) fp[j + 1] - fp[j]) / 1.0; // xp[j+1] − xp[j] = 1
                double r = v == j ? fp[j] : slope * (v - j) + fp[j];
                if (Double.isNaN(r)) r = slope * (v - (j + 1)) + fp[j + 1];
                out[i] = r;
            }
        }
        return out;
    }
}
