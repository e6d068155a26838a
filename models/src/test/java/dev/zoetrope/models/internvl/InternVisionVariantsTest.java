package dev.zoetrope.models.internvl;

import dev.zoetrope.core.InMemoryWeights;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.testing.Compare;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * What the fixture's InternViT-300M-style model does not exercise — RMSNorm layers, q/k RMS normalisation,
 * no qkv bias (the InternViT-6B settings), a patch grid different from the trained one (bicubic position
 * embedding), select_layer — against a float64 re-implementation written here from modeling_intern_vit.py,
 * on random weights. Also pixel_shuffle v1/v2 against the layout the fixture README spells out.
 */
class InternVisionVariantsTest {
    static final int C = 8, HEADS = 2, INTER = 12, PATCH = 2, GRID = 2, LAYERS = 2;
    static final double EPS = 1e-6;

    final Random random = new Random(20241122);

    double[] randn(int n, double scale, double shift) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = shift + scale * random.nextGaussian();
        return a;
    }

    static Tensor tensor(double[] d, int... shape) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return Tensor.of(f, shape);
    }

    static double[] widen(double[] d) {   // the float32 values the model sees
        double[] out = new double[d.length];
        for (int i = 0; i < d.length; i++) out[i] = (float) d[i];
        return out;
    }

    @Test
    void rmsNormQkNormalisationAndResizedPositionsMatchAFloat64Reference() {
        InternVisionConfig config = new InternVisionConfig(3, PATCH, PATCH * GRID, false, C, HEADS, INTER, true, LAYERS,
                "gelu", "rms_norm", EPS);
        try (Scope s = Scope.open()) {
            InMemoryWeights w = new InMemoryWeights("synthetic InternViT");
            double[] cls = widen(randn(C, 1, 0)), patchW = widen(randn(C * 3 * PATCH * PATCH, 0.4, 0)), patchB = widen(randn(C, 0.1, 0));
            double[] pos = widen(randn((1 + GRID * GRID) * C, 1, 0));
            w.put("embeddings.class_embedding", tensor(cls, 1, 1, C))
                    .put("embeddings.patch_embedding.weight", tensor(patchW, C, 3, PATCH, PATCH))
                    .put("embeddings.patch_embedding.bias", tensor(patchB, C))
                    .put("embeddings.position_embedding", tensor(pos, 1, 1 + GRID * GRID, C));
            double[][][] layer = new double[LAYERS][][];
            for (int l = 0; l < LAYERS; l++) {
                String p = "encoder.layers." + l + ".";
                double[][] lw = {
                        widen(randn(C, 0.1, 1)), widen(randn(C, 0.1, 1)),                 // 0 norm1, 1 norm2
                        widen(randn(C, 0.3, 1)), widen(randn(C, 0.3, 1)),                 // 2 ls1, 3 ls2
                        widen(randn(3 * C * C, 1 / Math.sqrt(C), 0)),                     // 4 qkv
                        widen(randn(C, 0.1, 1)), widen(randn(C, 0.1, 1)),                 // 5 q_norm, 6 k_norm
                        widen(randn(C * C, 1 / Math.sqrt(C), 0)), widen(randn(C, 0.1, 0)), // 7 proj, 8 proj bias
                        widen(randn(INTER * C, 1 / Math.sqrt(C), 0)), widen(randn(INTER, 0.1, 0)),   // 9 fc1, 10
                        widen(randn(C * INTER, 1 / Math.sqrt(INTER), 0)), widen(randn(C, 0.1, 0))};  // 11 fc2, 12
                layer[l] = lw;
                w.put(p + "norm1.weight", tensor(lw[0], C)).put(p + "norm2.weight", tensor(lw[1], C))
                        .put(p + "ls1", tensor(lw[2], C)).put(p + "ls2", tensor(lw[3], C))
                        .put(p + "attn.qkv.weight", tensor(lw[4], 3 * C, C))
                        .put(p + "attn.q_norm.weight", tensor(lw[5], C)).put(p + "attn.k_norm.weight", tensor(lw[6], C))
                        .put(p + "attn.proj.weight", tensor(lw[7], C, C)).put(p + "attn.proj.bias", tensor(lw[8], C))
                        .put(p + "mlp.fc1.weight", tensor(lw[9], INTER, C)).put(p + "mlp.fc1.bias", tensor(lw[10], INTER))
                        .put(p + "mlp.fc2.weight", tensor(lw[11], C, INTER)).put(p + "mlp.fc2.bias", tensor(lw[12], C));
            }
            InternVisionModel model = new InternVisionModel(config, w);
            for (int grid : new int[] {GRID, 3, 5}) {   // the trained grid, then resized position embeddings
                int side = grid * PATCH, n = 2;
                double[] pixels = widen(randn(n * 3 * side * side, 1, 0));
                Tensor pv = tensor(pixels, n, 3, side, side);
                double[][] expected = reference(pixels, n, grid, cls, patchW, patchB, pos, layer);
                float[][] seen = new float[LAYERS + 1][];
                Tensor last = model.hiddenState(pv, -1, (i, h) -> seen[i] = h.toFloatArray());
                for (int i = 0; i <= LAYERS; i++) {
                    Compare.assertClose("grid " + grid + " hidden_states[" + i + "]", seen[i], floats(expected[i]), 1e-4, 1e-4);
                }
                Compare.assertClose("grid " + grid + " last", last.toFloatArray(), floats(expected[LAYERS]), 1e-4, 1e-4);
                // select_layer -2 = the output of the second-to-last layer
                Compare.assertClose("grid " + grid + " select_layer -2", model.hiddenState(pv, -2).toFloatArray(),
                        floats(expected[LAYERS - 1]), 1e-4, 1e-4);
            }
        }
    }

    static float[] floats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }

    /** hidden_states (embeddings, then each layer) in float64, [N, 1 + g², C] flattened. */
    static double[][] reference(double[] px, int n, int g, double[] cls, double[] pw, double[] pb, double[] pos, double[][][] layers) {
        int tokens = 1 + g * g, side = g * PATCH;
        double[] posGrid = bicubicPositions(pos, g);
        double[] x = new double[n * tokens * C];
        for (int b = 0; b < n; b++) {
            for (int c = 0; c < C; c++) x[(b * tokens) * C + c] = cls[c] + pos[c];
            for (int py = 0; py < g; py++) {
                for (int pxi = 0; pxi < g; pxi++) {
                    int t = 1 + py * g + pxi;
                    for (int o = 0; o < C; o++) {
                        double acc = pb[o];
                        for (int ch = 0; ch < 3; ch++) {
                            for (int ky = 0; ky < PATCH; ky++) {
                                for (int kx = 0; kx < PATCH; kx++) {
                                    acc += pw[((o * 3 + ch) * PATCH + ky) * PATCH + kx]
                                            * px[((b * 3 + ch) * side + py * PATCH + ky) * side + pxi * PATCH + kx];
                                }
                            }
                        }
                        x[(b * tokens + t) * C + o] = acc + posGrid[(py * g + pxi) * C + o];
                    }
                }
            }
        }
        double[][] states = new double[layers.length + 1][];
        states[0] = x.clone();
        for (int l = 0; l < layers.length; l++) {
            double[][] w = layers[l];
            for (int b = 0; b < n; b++) {
                double[][] h = new double[tokens][];
                for (int t = 0; t < tokens; t++) h[t] = rms(slice(x, (b * tokens + t) * C, C), w[0]);
                double[][] attn = attention(h, w);
                for (int t = 0; t < tokens; t++) for (int c = 0; c < C; c++) x[(b * tokens + t) * C + c] += w[2][c] * attn[t][c];
                for (int t = 0; t < tokens; t++) {
                    double[] y = rms(slice(x, (b * tokens + t) * C, C), w[1]);
                    double[] mid = new double[INTER];
                    for (int i = 0; i < INTER; i++) {
                        double acc = w[10][i];
                        for (int c = 0; c < C; c++) acc += w[9][i * C + c] * y[c];
                        mid[i] = 0.5 * acc * (1 + erf(acc / Math.sqrt(2)));
                    }
                    for (int c = 0; c < C; c++) {
                        double acc = w[12][c];
                        for (int i = 0; i < INTER; i++) acc += w[11][c * INTER + i] * mid[i];
                        x[(b * tokens + t) * C + c] += w[3][c] * acc;
                    }
                }
            }
            states[l + 1] = x.clone();
        }
        return states;
    }

    static double[] slice(double[] a, int from, int n) {
        return java.util.Arrays.copyOfRange(a, from, from + n);
    }

    static double[] rms(double[] v, double[] weight) {
        double sq = 0;
        for (double d : v) sq += d * d;
        double r = 1 / Math.sqrt(sq / v.length + EPS);
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) out[i] = weight[i] * v[i] * r;
        return out;
    }

    static double[][] attention(double[][] h, double[][] w) {
        int l = h.length, d = C / HEADS;
        double[][] q = new double[l][], k = new double[l][], v = new double[l][C];
        for (int t = 0; t < l; t++) {
            double[] qr = new double[C], kr = new double[C];
            for (int o = 0; o < 3 * C; o++) {
                double acc = 0;
                for (int c = 0; c < C; c++) acc += w[4][o * C + c] * h[t][c];
                if (o < C) qr[o] = acc;
                else if (o < 2 * C) kr[o - C] = acc;
                else v[t][o - 2 * C] = acc;
            }
            q[t] = rms(qr, w[5]);
            k[t] = rms(kr, w[6]);
        }
        double[][] ctx = new double[l][C];
        for (int hd = 0; hd < HEADS; hd++) {
            for (int i = 0; i < l; i++) {
                double[] score = new double[l];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < l; j++) {
                    double s = 0;
                    for (int e = 0; e < d; e++) s += q[i][hd * d + e] * k[j][hd * d + e];
                    score[j] = s / Math.sqrt(d);
                    max = Math.max(max, score[j]);
                }
                double sum = 0;
                for (int j = 0; j < l; j++) sum += score[j] = Math.exp(score[j] - max);
                for (int j = 0; j < l; j++) for (int e = 0; e < d; e++) ctx[i][hd * d + e] += score[j] / sum * v[j][hd * d + e];
            }
        }
        double[][] out = new double[l][C];
        for (int t = 0; t < l; t++) {
            for (int o = 0; o < C; o++) {
                double acc = w[8][o];
                for (int c = 0; c < C; c++) acc += w[7][o * C + c] * ctx[t][c];
                out[t][o] = acc;
            }
        }
        return out;
    }

    /**
     * F.interpolate(bicubic, align_corners=False) of the GRID×GRID position grid to g×g (torch: source
     * (dst + ½)·in/out − ½, cubic convolution a = −0.75, border indices clamped); identity when g = GRID.
     */
    static double[] bicubicPositions(double[] pos, int g) {
        double[] out = new double[g * g * C];
        double scale = (double) GRID / g;
        for (int oy = 0; oy < g; oy++) {
            for (int ox = 0; ox < g; ox++) {
                double sy = (oy + 0.5) * scale - 0.5, sx = (ox + 0.5) * scale - 0.5;
                int iy = (int) Math.floor(sy), ix = (int) Math.floor(sx);
                double[] wy = cubicWeights(sy - iy), wx = cubicWeights(sx - ix);
                for (int c = 0; c < C; c++) {
                    double acc = 0;
                    for (int j = 0; j < 4; j++) {
                        int y = Math.clamp(iy - 1 + j, 0, GRID - 1);
                        for (int i = 0; i < 4; i++) {
                            int x = Math.clamp(ix - 1 + i, 0, GRID - 1);
                            acc += wy[j] * wx[i] * pos[(1 + y * GRID + x) * C + c];
                        }
                    }
                    out[(oy * g + ox) * C + c] = acc;
                }
            }
        }
        return out;
    }

    static double[] cubicWeights(double t) {
        double a = -0.75;
        return new double[] {cubic2(t + 1, a), cubic1(t, a), cubic1(1 - t, a), cubic2(2 - t, a)};
    }

    static double cubic1(double x, double a) {
        return ((a + 2) * x - (a + 3)) * x * x + 1;
    }

    static double cubic2(double x, double a) {
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
    }

    /** erf to ~1e-15 (series for small |x|, continued fraction otherwise). */
    static double erf(double x) {
        double ax = Math.abs(x);
        if (ax < 2.5) {
            double sum = 0, term = ax;
            for (int n = 0; n < 200; n++) {
                sum += term / (2 * n + 1);
                term *= -ax * ax / (n + 1);
                if (Math.abs(term) < 1e-17) break;
            }
            return Math.signum(x) * 2 / Math.sqrt(Math.PI) * sum;
        }
        // erfc continued fraction (Lentz) for larger |x|
        double f = ax, c = ax, d = 0;
        for (int n = 1; n < 200; n++) {
            double an = n / 2.0;
            d = ax + an * d;
            d = 1 / d;
            c = ax + an / c;
            f *= c * d;
        }
        double erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
        return Math.signum(x) * (1 - erfc);
    }

    @Test
    void pixelShuffleLayoutsMatchTheReference() {
        int w = 4, h = 6, c = 3;
        float[] data = new float[w * h * c];
        for (int i = 0; i < data.length; i++) data[i] = i;
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.of(data, 1, w, h, c);
            Tensor v2 = InternVLChatModel.pixelShuffle(x, 0.5, "v2").contiguous();
            Tensor v1 = InternVLChatModel.pixelShuffle(x, 0.5, "v1").contiguous();
            assertArrayEquals(new int[] {1, w / 2, h / 2, 4 * c}, v2.shape());
            assertArrayEquals(new int[] {1, h / 2, w / 2, 4 * c}, v1.shape());
            for (int i = 0; i < w / 2; i++) {
                for (int j = 0; j < h / 2; j++) {
                    // token (i, j) = x[2i, 2j] | x[2i, 2j+1] | x[2i+1, 2j] | x[2i+1, 2j+1]
                    int[][] sources = {{2 * i, 2 * j}, {2 * i, 2 * j + 1}, {2 * i + 1, 2 * j}, {2 * i + 1, 2 * j + 1}};
                    for (int q = 0; q < 4; q++) {
                        for (int ch = 0; ch < c; ch++) {
                            float want = data[(sources[q][0] * h + sources[q][1]) * c + ch];
                            org.junit.jupiter.api.Assertions.assertEquals(want, v2.getFloat(0, i, j, q * c + ch));
                            org.junit.jupiter.api.Assertions.assertEquals(want, v1.getFloat(0, j, i, q * c + ch)); // v1: transposed
                        }
                    }
                }
            }
        }
    }
}
