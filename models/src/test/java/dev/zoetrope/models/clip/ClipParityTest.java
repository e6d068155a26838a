package dev.zoetrope.models.clip;

import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.testing.Fixtures;
import dev.zoetrope.models.nn.Configs;
import dev.zoetrope.models.testing.CaseData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * CLIP towers against transformers: every text_encoder case of the sd fixtures, the CLIP text_encoder cases of
 * the video fixtures (gelu, clip_skip 1) and their image_encoder cases (CLIPVisionModelWithProjection).
 */
class ClipParityTest {
    static Stream<Fixtures.Case> textEncoderCases() {
        return Stream.concat(Fixtures.cases("sd", "text_encoder").stream(),
                Fixtures.cases("video", "text_encoder").stream().filter(c -> isClip(c.modelDir().resolve("text_encoder"))));
    }

    static List<Fixtures.Case> imageEncoderCases() {
        return Fixtures.cases("video", "image_encoder");
    }

    private static boolean isClip(Path componentDir) {
        Path config = componentDir.resolve("config.json");
        return Files.isRegularFile(config) && Configs.read(config).string("model_type", "").startsWith("clip");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("textEncoderCases")
    void textEncoder(Fixtures.Case fixture) {
        try (CaseData data = new CaseData(fixture);
             ClipTextModel model = ClipTextModel.load(fixture.modelDir().resolve("text_encoder"));
             Scope s = Scope.open()) {
            Tensor ids = data.get("input_ids");                                    // [prompts, 77]
            List<String> outputs = data.names("output");
            assertFalse(outputs.isEmpty());
            for (String name : outputs) {
                int clipSkip;
                if (name.equals("last_hidden_state")) clipSkip = 0;
                else if (name.matches("clip_skip\\d+")) clipSkip = Integer.parseInt(name.substring("clip_skip".length()));
                else throw new AssertionError(fixture.name() + ": unexpected output " + name);
                data.assertClose(name, model.encode(ids, clipSkip));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("imageEncoderCases")
    void imageEncoder(Fixtures.Case fixture) {
        try (CaseData data = new CaseData(fixture);
             ClipVisionModel model = ClipVisionModel.load(fixture.modelDir().resolve("image_encoder"));
             Scope s = Scope.open()) {
            ClipVisionModel.Output out = model.forward(data.get("pixel_values"));
            data.assertClose("last_hidden_state", out.lastHiddenState());
            data.assertClose("image_embeds", out.imageEmbeds());
            assertEquals(List.of("image_embeds", "last_hidden_state"), data.names("output").stream().sorted().toList());
        }
    }
}
