package dev.zoetrope.models.internvl;

import dev.zoetrope.core.Json;
import dev.zoetrope.core.testing.Fixtures;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** internvl/cases/tiling_rules.json: candidate order, find_closest_aspect_ratio vectors, get_index vectors. */
class TilingRulesTest {
    static Json.Obj rules() {
        return Fixtures.json(Fixtures.folder("internvl").resolve("cases/tiling_rules.json"));
    }

    @Test
    void candidateOrderIsPythonsSetOrderSortedByTileCount() {
        Json.Obj byMax = rules().obj("candidate_grid_order_by_max_num");
        assertFalse(byMax.map().isEmpty(), "no candidate lists in tiling_rules.json");
        for (Map.Entry<String, Object> e : byMax.map().entrySet()) {
            List<ImageTiling.Grid> expected = new ArrayList<>();
            for (Object pair : (List<?>) e.getValue()) {
                List<?> p = (List<?>) pair;
                expected.add(new ImageTiling.Grid(((Number) p.get(0)).intValue(), ((Number) p.get(1)).intValue()));
            }
            assertEquals(expected, ImageTiling.candidateGrids(1, Integer.parseInt(e.getKey())), "max_num " + e.getKey());
        }
    }

    @Test
    void closestAspectRatioIncludingTies() {
        List<Object> tests = rules().list("aspect_ratio_tests");
        assertFalse(tests.isEmpty(), "no aspect-ratio vectors in tiling_rules.json");
        int imageSize = rules().intValue("image_size", 448);
        List<String> failures = new ArrayList<>();
        for (Object o : tests) {
            Json.Obj t = Json.Obj.of(o);
            int w = t.intValue("width", -1), h = t.intValue("height", -1);
            int min = t.intValue("min_num", 1), max = t.intValue("max_num", -1);
            int[] g = t.ints("grid_cols_rows", null);
            ImageTiling.Grid got = ImageTiling.closestGrid(w, h, ImageTiling.candidateGrids(min, max), imageSize);
            if (!got.equals(new ImageTiling.Grid(g[0], g[1]))) {
                failures.add(w + "x" + h + " max " + max + ": got " + got + ", expected " + g[0] + "x" + g[1]);
            }
        }
        assertEquals(List.of(), failures);
    }

    @Test
    void getIndexVectors() {
        List<Object> tests = rules().list("get_index_tests");
        assertFalse(tests.isEmpty(), "no get_index vectors in tiling_rules.json");
        for (Object o : tests) {
            Json.Obj t = Json.Obj.of(o);
            double[] bound = null;
            if (t.raw("bound") instanceof List<?> b) bound = new double[]{((Number) b.get(0)).doubleValue(), ((Number) b.get(1)).doubleValue()};
            int[] got = FrameSampling.getIndex(bound, t.doubleValue("fps", -1), t.intValue("max_frame", -1),
                    t.intValue("first_idx", 0), t.intValue("num_segments", -1));
            assertArrayEquals(t.ints("frame_indices", null), got, "get_index " + t.map());
        }
    }
}
