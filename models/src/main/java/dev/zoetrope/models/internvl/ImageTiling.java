package dev.zoetrope.models.internvl;

import dev.zoetrope.media.PillowResize;
import dev.zoetrope.media.RgbImage;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * InternVL2's dynamic tiling, as the model card's {@code dynamic_preprocess} and
 * {@code find_closest_aspect_ratio}: choose a grid of cols × rows tiles (min_num ≤ cols·rows ≤ max_num)
 * whose aspect ratio is closest to the image's, resize the image to (cols·size, rows·size) with Pillow's
 * bicubic, cut it into row-major tiles and append a size² thumbnail of the whole image when there is more
 * than one tile.
 */
public final class ImageTiling {
    /** A grid of {@code cols} × {@code rows} tiles (the model card's {@code (i, j)} = (width, height) factors). */
    public record Grid(int cols, int rows) {
        public int tiles() {
            return cols * rows;
        }
    }

    /** The tiles of one image and the grid they came from. */
    public record Tiles(Grid grid, List<RgbImage> images) {
        public int count() {
            return images.size();
        }
    }

    private ImageTiling() {
    }

    /**
     * The candidate grids in the order {@code dynamic_preprocess} tries them: {@code sorted(set(...),
     * key=cols·rows)}. The order among grids with the same product comes from CPython's set iteration, and
     * it decides exact ties in {@link #closestGrid}, so it is reproduced by {@link PythonTupleSet}.
     */
    public static List<Grid> candidateGrids(int minNum, int maxNum) {
        if (minNum < 1 || maxNum < minNum) throw new IllegalArgumentException("need 1 <= min_num <= max_num, got " + minNum + ", " + maxNum);
        PythonTupleSet set = new PythonTupleSet();
        for (int n = minNum; n <= maxNum; n++) {
            for (int i = 1; i <= n; i++) {
                for (int j = 1; j <= n; j++) {
                    if (i * j <= maxNum && i * j >= minNum) set.add(i, j);
                }
            }
        }
        List<Grid> grids = new ArrayList<>();
        for (long[] t : set.iterationOrder()) grids.add(new Grid((int) t[0], (int) t[1]));
        grids.sort(Comparator.comparingInt(Grid::tiles)); // stable, like Python's sorted
        return grids;
    }

    /**
     * {@code find_closest_aspect_ratio}: the candidate with the smallest |image ratio − cols/rows|; on an
     * exact tie a later candidate wins only if the image area exceeds half the area of its tiles.
     */
    public static Grid closestGrid(int width, int height, List<Grid> candidates, int imageSize) {
        double aspectRatio = (double) width / height;
        double bestDiff = Double.POSITIVE_INFINITY;
        Grid best = new Grid(1, 1);
        long area = (long) width * height;
        for (Grid g : candidates) {
            double diff = Math.abs(aspectRatio - (double) g.cols() / g.rows());
            if (diff < bestDiff) {
                bestDiff = diff;
                best = g;
            } else if (diff == bestDiff && area > 0.5 * imageSize * imageSize * g.cols() * g.rows()) {
                best = g;
            }
        }
        return best;
    }

    /** {@code dynamic_preprocess(image, min_num, max_num, image_size, use_thumbnail)}. */
    public static Tiles dynamicPreprocess(RgbImage image, int minNum, int maxNum, int imageSize, boolean useThumbnail) {
        Grid grid = closestGrid(image.width(), image.height(), candidateGrids(minNum, maxNum), imageSize);
        int targetWidth = imageSize * grid.cols(), targetHeight = imageSize * grid.rows();
        RgbImage resized = PillowResize.resize(image, targetWidth, targetHeight, PillowResize.Filter.BICUBIC);
        List<RgbImage> tiles = new ArrayList<>();
        int cols = targetWidth / imageSize;
        for (int i = 0; i < grid.tiles(); i++) {
            int x = (i % cols) * imageSize, y = (i / cols) * imageSize;
            tiles.add(resized.crop(x, y, x + imageSize, y + imageSize));
        }
        if (useThumbnail && tiles.size() != 1) {
            tiles.add(PillowResize.resize(image, imageSize, imageSize, PillowResize.Filter.BICUBIC));
        }
        return new Tiles(grid, List.copyOf(tiles));
    }

    /**
     * The slot order of a CPython 3.8+ set of 2-tuples of small non-negative ints built by repeated adds
     * (what {@code set(generator)} does): tuple hashes by the xxHash-based {@code tuplehash}, open addressing
     * with 9 linear probes then perturbed jumps, growth to 4× the used count when 3/5 full. Iterating a set
     * walks its table in slot order, which is what this returns.
     */
    static final class PythonTupleSet {
        private static final long XXPRIME_1 = 0x9E3779B185EBCA87L; // 11400714785074694791
        private static final long XXPRIME_2 = 0xC2B2AE3D27D4EB4FL; // 14029467366897019727
        private static final long XXPRIME_5 = 0x27D4EB2F165667C5L; // 2870177450012600261
        private static final int LINEAR_PROBES = 9;
        private static final int PERTURB_SHIFT = 5;
        private static final int MIN_SIZE = 8;

        private long[][] table = new long[MIN_SIZE][];
        private long[] hashes = new long[MIN_SIZE];
        private int fill;

        /** CPython's {@code tuplehash} of a tuple of non-negative ints below 2^61 (whose hash is the value). */
        static long tupleHash(long... items) {
            long acc = XXPRIME_5;
            for (long lane : items) {
                acc += lane * XXPRIME_2;
                acc = Long.rotateLeft(acc, 31);
                acc *= XXPRIME_1;
            }
            acc += items.length ^ (XXPRIME_5 ^ 3527539L);
            return acc == -1L ? 1546275796L : acc;
        }

        void add(long a, long b) {
            long[] key = {a, b};
            long hash = tupleHash(a, b);
            int slot = probe(table, hashes, key, hash);
            if (table[slot] != null) return; // already present
            table[slot] = key;
            hashes[slot] = hash;
            fill++;
            int mask = table.length - 1;
            if ((long) fill * 5 >= (long) mask * 3) resize(fill > 50000 ? fill * 2 : fill * 4);
        }

        /** The slot holding {@code key}, or the first empty slot of its probe sequence. */
        private static int probe(long[][] table, long[] hashes, long[] key, long hash) {
            int mask = table.length - 1;
            long perturb = hash;
            int i = (int) (hash & mask);
            while (true) {
                int probes = i + LINEAR_PROBES <= mask ? LINEAR_PROBES : 0;
                for (int j = i; j <= i + probes; j++) {
                    if (table[j] == null) return j;
                    if (hashes[j] == hash && Arrays.equals(table[j], key)) return j;
                }
                perturb >>>= PERTURB_SHIFT;
                i = (int) ((i * 5L + 1 + perturb) & mask);
            }
        }

        private void resize(int minUsed) {
            int size = MIN_SIZE;
            while (size <= minUsed) size <<= 1;
            long[][] oldTable = table;
            long[] oldHashes = hashes;
            table = new long[size][];
            hashes = new long[size];
            for (int s = 0; s < oldTable.length; s++) {
                if (oldTable[s] == null) continue;
                int slot = probe(table, hashes, oldTable[s], oldHashes[s]);
                table[slot] = oldTable[s];
                hashes[slot] = oldHashes[s];
            }
        }

        List<long[]> iterationOrder() {
            List<long[]> out = new ArrayList<>();
            for (long[] k : table) if (k != null) out.add(k);
            return out;
        }
    }
}
