package dev.zoetrope.models.internvl;

import dev.zoetrope.core.Json;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.zoetrope.core.Ops.concat;

/**
 * extract_feature of the fixture's preprocess cases, computed once per test JVM (the vision side itself is
 * checked by InternVisionParityTest; chat tests only need its output).
 */
final class FixtureFeatures {
    private static final Map<String, float[]> CACHE = new HashMap<>();

    private FixtureFeatures() {
    }

    /** The preprocess case names a chat/batch manifest lists under "images", in order. */
    static List<String> imageCases(Json.Obj manifest) {
        List<String> names = new ArrayList<>();
        for (Object o : manifest.list("images")) names.add(Json.Obj.of(o).string("preprocess_case", null));
        return names;
    }

    /** Tiles of each listed case. */
    static List<Integer> tiles(Json.Obj manifest) {
        List<Integer> tiles = new ArrayList<>();
        for (Object o : manifest.list("images")) tiles.add(Json.Obj.of(o).intValue("num_tiles", 0));
        return tiles;
    }

    /** The features of the listed cases concatenated in order, [tiles, 256, hidden] in the current scope (null if none). */
    static synchronized Tensor of(InternVLChatModel model, List<String> preprocessCases) {
        List<Tensor> parts = new ArrayList<>();
        int hidden = model.config().llmConfig().hiddenSize(), tokens = model.numImageToken();
        for (String name : preprocessCases) {
            float[] f = CACHE.get(name);
            if (f == null) {
                try (Scope s = Scope.open()) {
                    f = model.extractFeature(FixturePixelValues.load(name)).toFloatArray();
                }
                CACHE.put(name, f);
            }
            parts.add(Tensor.of(f, f.length / (tokens * hidden), tokens, hidden));
        }
        if (parts.isEmpty()) return null;
        return parts.size() == 1 ? parts.get(0) : concat(0, parts);
    }
}
