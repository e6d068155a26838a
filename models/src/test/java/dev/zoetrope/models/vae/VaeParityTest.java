package dev.zoetrope.models.vae;

import dev.zoetrope.core.Scope;
import dev.zoetrope.core.testing.Fixtures;
import dev.zoetrope.models.testing.CaseData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * AutoencoderKL against diffusers for every vae case of the sd and video fixtures: inputs x&lt;suffix&gt; are
 * encoded (mean&lt;suffix&gt;, logvar&lt;suffix&gt;), inputs z&lt;suffix&gt; decoded (decoded&lt;suffix&gt;).
 */
class VaeParityTest {
    static Stream<Fixtures.Case> cases() {
        return Stream.concat(Fixtures.cases("sd", "vae").stream(), Fixtures.cases("video", "vae").stream());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void vae(Fixtures.Case fixture) {
        try (CaseData data = new CaseData(fixture);
             AutoencoderKL vae = AutoencoderKL.load(fixture.modelDir().resolve("vae"))) {
            int checked = 0;
            for (String input : data.names("input")) {
                String suffix = input.substring(1);
                try (Scope s = Scope.open()) {
                    if (input.equals("x") || input.startsWith("x_")) {
                        DiagonalGaussian posterior = vae.encode(data.get(input));
                        data.assertClose("mean" + suffix, posterior.mean());
                        data.assertClose("logvar" + suffix, posterior.logvar());
                        checked += 2;
                    } else if (input.equals("z") || input.startsWith("z_")) {
                        data.assertClose("decoded" + suffix, vae.decode(data.get(input)));
                        checked++;
                    }
                }
            }
            assertEquals(data.names("output").size(), checked, "every output of " + fixture.name() + " is checked");
        }
    }
}
