package dev.zoetrope.models.internvl;

import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.Weights;
import dev.zoetrope.core.testing.Compare;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * InternViT, pixel shuffle and extract_feature against the fixture's "vision" cases (original InternVL code,
 * float32). Tolerance from the fixture README: |a − b| ≤ 1e-4 + 1e-4·|b|. The BF16 checkpoint is checked on
 * every tensor; the F32 twin on extract_feature (the same float32 values, so the same result).
 */
class InternVisionParityTest {
    static final double ATOL = 1e-4, RTOL = 1e-4;

    static Stream<Object[]> cases() {
        List<Object[]> out = new ArrayList<>();
        for (InternVlFixtures.Case c : InternVlFixtures.cases("vision")) {
            out.add(new Object[] {c, "model.safetensors"});
            out.add(new Object[] {c, "model-fp32.safetensors"});
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} from {1}")
    @MethodSource("cases")
    void matchesReference(InternVlFixtures.Case c, String weightsFile) {
        try (InternVLChatModel model = InternVLChatModel.load(InternVlFixtures.modelDir(), InternVlFixtures.modelDir().resolve(weightsFile));
             Weights expected = Weights.open(c.tensors()); Scope s = Scope.open()) {
            Tensor pixelValues = FixturePixelValues.load(c.manifest().string("input_preprocess_case", null));
            assertArrayEquals(c.manifest().ints("input_shape", null), pixelValues.shape());
            if (!weightsFile.equals("model.safetensors")) {
                Compare.assertClose("extract_feature", model.extractFeature(pixelValues), expected.get("extract_feature"),
                        ATOL, RTOL);
                return;
            }
            // One vision pass, every intermediate compared: hidden_states of tile 0, last_hidden_state of all
            // tiles, the pixel shuffle of tile 0 and the projected features.
            Tensor hiddenStates = expected.get("hidden_states");          // (L+1, 1, 1+P, C) for tile 0
            int[] seen = {0};
            Tensor last = model.visionModel().hiddenState(pixelValues, -1, (i, h) -> {
                Compare.assertClose("hidden_states[" + i + "]", h.narrow(0, 0, 1), hiddenStates.select(0, i), ATOL, RTOL);
                seen[0]++;
            });
            assertEquals(hiddenStates.dim(0), seen[0], "every hidden state compared");
            Compare.assertClose("last_hidden_state", last, expected.get("last_hidden_state"), ATOL, RTOL);
            Tensor shuffled = model.shuffleVisionTokens(last);
            Compare.assertClose("pixel_shuffle", shuffled.narrow(0, 0, 1), expected.get("pixel_shuffle"), ATOL, RTOL);
            Compare.assertClose("extract_feature", model.projector(shuffled), expected.get("extract_feature"), ATOL, RTOL);
        }
    }
}
