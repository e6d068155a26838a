package dev.zoetrope.models.vae;

import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.testing.Fixtures;
import dev.zoetrope.models.testing.CaseData;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tiled VAE decode/encode follow diffusers' tiled_decode/tiled_encode: tiles of sample_size pixels every
 * (1 − overlap)·tile, each tile's first columns/rows blended linearly with its left/upper neighbour, top-left
 * row_limit² kept. Checked against tiles decoded one by one with the plain decoder. Tiles are 8 latents wide
 * (8·f pixels for the VAE's scale factor f) with overlap 0.25: latent stride 6, decode blend 2·f pixels.
 */
class VaeTilingTest {
    private static final Path VAE = Fixtures.modelDir("sd", "vae").resolve("vae");
    private static final int TILE_LATENTS = 8;

    private static Tensor crop(Tensor t, int height, int width) {
        assertTrue(t.dim(2) >= height && t.dim(3) >= width, "the fixture input is smaller than " + height + "x" + width);
        return t.slice(2, 0, height).slice(3, 0, width);
    }

    @Test
    void tiledDecodeAssemblesBlendedTiles() {
        try (AutoencoderKL plain = AutoencoderKL.load(VAE);
             CaseData data = new CaseData(Fixtures.cases("sd", "vae").get(0));
             Scope s = Scope.open()) {
            int f = plain.config().scaleFactor();
            int tile = TILE_LATENTS * f, blend = 2 * f, keep = tile - blend;           // pixels
            AutoencoderKL tiled = plain.withTiling(new AutoencoderKL.Tiling(tile, 0.25));
            Tensor z = crop(data.largestInput("z"), 8, 14);                                // [1, C, 8, 14]: tiles at columns 0 and 6
            Tensor out = tiled.decode(z);
            assertArrayEquals(new int[] {1, 3, 8 * f, 14 * f}, out.shape());

            float[][][] t00 = image(plain.decode(z.slice(3, 0, 8)));   // tile (0, 0)
            float[][][] t01 = image(plain.decode(z.slice(3, 6, 14)));  // tile (0, 1)
            float[][][] o = image(out);
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < keep; y++) {
                    for (int x = 0; x < keep; x++) assertEquals(t00[c][y][x], o[c][y][x], "unblended tile (0,0) at " + y + "," + x);
                    for (int x = 0; x < keep && keep + x < o[c][y].length; x++) {
                        float want = t01[c][y][x];
                        if (x < blend) {
                            float keepLeft = (float) (1 - x / (double) blend), take = (float) (x / (double) blend);
                            want = t00[c][y][keep + x] * keepLeft + t01[c][y][x] * take;
                        }
                        assertEquals(want, o[c][y][keep + x], "tile (0,1) at " + y + "," + x);
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
            int f = plain.config().scaleFactor();
            int tile = TILE_LATENTS * f;
            AutoencoderKL.Tiling tiling = new AutoencoderKL.Tiling(tile, 0.25);
            Tensor image = data.largestInput("x");
            Tensor x = crop(image, tile, tile);
            assertArrayEquals(plain.encode(x).mean().toFloatArray(), plain.withTiling(tiling).encode(x).mean().toFloatArray());
            int wideWidth = 20 * f;                                           // 3 tiles across: pixel stride 6·f
            Tensor wide = crop(image, tile, wideWidth);
            DiagonalGaussian g = plain.tiledEncode(wide, tiling);
            int channels = plain.config().latentChannels();
            assertArrayEquals(new int[] {1, channels, TILE_LATENTS, 20}, g.mean().shape());
            // tile (0,0) keeps its first 6 latent columns (row_limit = 8 − 2 blended) untouched
            float[][][] first = image(plain.encode(wide.slice(3, 0, tile)).mean());
            float[][][] got = image(g.mean());
            for (int c = 0; c < channels; c++) {
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
