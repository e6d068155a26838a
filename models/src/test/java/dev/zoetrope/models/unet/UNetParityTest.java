package dev.zoetrope.models.unet;

import dev.zoetrope.core.Scope;
import dev.zoetrope.core.testing.Fixtures;
import dev.zoetrope.models.testing.CaseData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** UNet2DConditionModel against diffusers for every unet case of the sd fixtures. */
class UNetParityTest {
    /** Outputs are named eps_<size>_t<timestep> for the input sample_<size>. */
    private static final Pattern OUTPUT = Pattern.compile("eps_(.+)_t(\\d+)");

    static List<Fixtures.Case> cases() {
        return Fixtures.cases("sd", "unet");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void unet(Fixtures.Case fixture) {
        try (CaseData data = new CaseData(fixture);
             UNet2DConditionModel unet = UNet2DConditionModel.load(fixture.modelDir().resolve("unet"))) {
            List<String> outputs = data.names("output");
            assertFalse(outputs.isEmpty());
            for (String name : outputs) {
                Matcher m = OUTPUT.matcher(name);
                assertTrue(m.matches(), "unexpected output " + name);
                try (Scope s = Scope.open()) {
                    data.assertClose(name, unet.forward(data.get("sample_" + m.group(1)), Float.parseFloat(m.group(2)),
                            data.get("encoder_hidden_states")));
                }
            }
        }
    }
}
