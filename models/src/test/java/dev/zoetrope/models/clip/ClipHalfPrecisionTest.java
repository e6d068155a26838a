package dev.zoetrope.models.clip;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.SafeTensors;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.testing.Compare;
import dev.zoetrope.core.testing.Fixtures;
import dev.zoetrope.models.testing.CaseData;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Checkpoints stored in F16/BF16 (as most published ones are) are used as stored: the text encoder over
 * half-precision weights equals the same model over those values widened to F32.
 */
class ClipHalfPrecisionTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F16", "BF16"})
    void halfPrecisionWeightsAreWidenedExactly(DType dtype) throws IOException {
        Fixtures.Case textCase = Fixtures.cases("sd", "text_encoder").get(0);
        Path source = textCase.modelDir().resolve("text_encoder");
        Path half = Files.createDirectories(tmp.resolve("half")), widened = Files.createDirectories(tmp.resolve("widened"));
        try (SafeTensors st = SafeTensors.open(source.resolve("model.safetensors")); Scope s = Scope.open()) {
            Map<String, Tensor> h = new LinkedHashMap<>(), w = new LinkedHashMap<>();
            for (String n : st.names()) {
                Tensor t = st.get(n).to(dtype);
                h.put(n, t);
                w.put(n, t.to(DType.F32));
            }
            SafeTensors.write(half.resolve("model.safetensors"), h, Map.of());
            SafeTensors.write(widened.resolve("model.safetensors"), w, Map.of());
        }
        Files.copy(source.resolve("config.json"), half.resolve("config.json"));
        Files.copy(source.resolve("config.json"), widened.resolve("config.json"));
        try (ClipTextModel a = ClipTextModel.load(half);
             ClipTextModel b = ClipTextModel.load(widened);
             CaseData data = new CaseData(textCase);
             Scope s = Scope.open()) {
            Tensor ids = data.get("input_ids");
            ids = ids.slice(0, 0, Math.min(4, ids.dim(0)));
            Compare.assertClose(dtype + " weights", a.encode(ids, 0), b.encode(ids, 0), 1e-6, 1e-6);
        }
    }
}
