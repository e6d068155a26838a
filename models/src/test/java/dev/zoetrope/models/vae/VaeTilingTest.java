package dev.zoetrope.models.vae;

import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.testing.Fixtures;
import dev.zoetrope.models.testing.CaseData;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Tiled VAE decode/encode follow diffusers' tiled_decode/tiled_encode: tiles of sample_size pixels every
 * (1 − overlap)·tile, each tile's first columns/rows blended linearly with its left/upper neighbour, top-left
 * row_limit² kept. Checked against tiles decoded one by one with the plain decoder.
 */
class VaeTilingTest {
    private static final Path VAE = Fixtures.folder("sd").resolve("tiny-sd/vae");

    @Test
    void tiledDecodeAssemblesBlendedTiles() {
        try (AutoencoderKL plain = AutoencoderKL.load(VAE);
             CaseData data = new CaseData(Fixtures.cases("sd", "vae").get(0));
             Scope s = Scope.open()) {
            // tiny VAE: scale factor 2; 16-pixel tiles = 8-latent tiles, stride 6 latents, blend 4 pixels, keep 12
            AutoencoderKL.Tiling tiling = new AutoencoderKL.Tiling(16, 0.25);
            AutoencoderKL tiled = plain.withTiling(tiling);
            Tensor z = data.get("z_24x40").slice(2, 0, 8).slice(3, 0, 14);          // [1, 4, 8, 14]
            Tensor out = tiled.decode(z);
            assertArrayEquals(new int[] {1, 3, 16, 28}, out.shape());

            float[][][] t00 = image(plain.decode(z.slice(2, 0, 8).slice(3, 0, 8)));   // tile (0, 0): 16×16 pixels
            float[][][] t01 = image(plain.decode(z.slice(2, 0, 8).slice(3, 6, 14)));  // tile (0, 1): 16×16 pixels
            float[][][] o = image(out);
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < 12; y++) {
                    for (int x = 0; x < 12; x++) assertEquals(t00[c][y][x], o[c][y][x], "unblended tile (0,0) at " + y + "," + x);
                    for (int x = 0; x < 12; x++) {
                        float want = t01[c][y][x];
                        if (x < 4) {
                            float keep = (float) (1 - x / 4.0), take = (float) (x / 4.0);
                            want = t00[c][y][12 + x] * keep + t01[c][y][x] * take;
                        }
                        assertEquals(want, o[c][y][12 + x], "tile (0,1) at " + y + "," + x);
                    }
                }
            }
            // A latent that fits in one tile is decoded without tiling.
            Tensor small = z.slice(3, 0, 8);
            assertArrayEquals(plain.decode(small).toFloatArray(), tiled.decode(small).toFloatArray());
        }
    }

    @Test
    void tiledEncodeOfOneTileEqualsPlainAndCoversTheImage() {
        try (AutoencoderKL plain = AutoencoderKL.load(VAE);
             CaseData data = new CaseData(Fixtures.cases("sd", "vae").get(0));
             Scope s = Scope.open()) {
            AutoencoderKL.Tiling tiling = new AutoencoderKL.Tiling(16, 0.25);
            Tensor x = data.get("x_64x64").slice(2, 0, 16).slice(3, 0, 16);
            assertArrayEquals(plain.encode(x).mean().toFloatArray(), plain.withTiling(tiling).encode(x).mean().toFloatArray());
            Tensor wide = data.get("x_64x64").slice(2, 0, 16).slice(3, 0, 40);        // 3 tiles across
            DiagonalGaussian g = plain.tiledEncode(wide, tiling);
            assertArrayEquals(new int[] {1, 4, 8, 20}, g.mean().shape());
            // tile (0,0) keeps its first 6 latent columns untouched
            float[][][] first = image(plain.encode(wide.slice(3, 0, 16)).mean());
            float[][][] got = image(g.mean());
            for (int c = 0; c < 4; c++) {
                for (int y = 0; y < 6; y++) for (int xx = 0; xx < 6; xx++) assertEquals(first[c][y][xx], got[c][y][xx]);
            }
        }
    }

    private static float[][][] image(Tensor t) {
        int c = t.dim(1), h = t.dim(2), w = t.dim(3);
        float[] flat = t.toFloatArray();
        float[][][] out = new float[c][h][w];
        for (int i = 0; i < c; i++) for (int y = 0; y < h; y++) System.arraycopy(flat, (i * h + y) * w, out[i][y], 0, w);
        return out;
    }
}
