package dev.zoetrope.models.unet;

import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.testing.Fixtures;
import dev.zoetrope.models.testing.CaseData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.zoetrope.core.Ops.concat;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** UNet2DConditionModel against diffusers for every unet case of the sd fixtures. */
class UNetParityTest {
    /** Outputs are named eps_<size>_t<timestep> for the input sample_<size>. */
    private static final Pattern OUTPUT = Pattern.compile("eps_(.+)_t(\\d+)");

    static List<Fixtures.Case> cases() {
        return Fixtures.cases("sd", "unet");
    }

    /** Inpainting cases run with a 9-channel UNet (the only fixture coverage of in_channels 9). */
    static List<Fixtures.Case> nineChannelInpaintCases() {
        return Fixtures.cases("sd", "inpaint").stream()
                .filter(c -> c.manifest().intValue("unet_in_channels", 4) == 9).toList();
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

    /**
     * The first denoising step of a 9-channel inpainting pipeline case: UNet input
     * cat([latents_start, mask_latent, masked_image_latents], dim=1) for the CFG batch [uncond, cond] at the first
     * timestep, text embeddings from the txt2img case with the same prompts (same text encoder, as the manifest notes).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("nineChannelInpaintCases")
    void inpaintUnetFirstStep(Fixtures.Case fixture) {
        // the manifests' prompt_embeds_note: the txt2img case with the same prompts stores the embeddings
        String prompt = fixture.manifest().string("prompt", null), negative = fixture.manifest().string("negative_prompt", null);
        Fixtures.Case txt2img = Fixtures.cases("sd", "txt2img").stream()
                .filter(c -> java.util.Objects.equals(prompt, c.manifest().string("prompt", null))
                        && java.util.Objects.equals(negative, c.manifest().string("negative_prompt", null)))
                .findFirst().orElseThrow(() -> new IllegalStateException("no txt2img case with the prompts of " + fixture));
        try (CaseData data = new CaseData(fixture);
             CaseData prompts = new CaseData(txt2img);
             UNet2DConditionModel unet = UNet2DConditionModel.load(fixture.modelDir().resolve("unet"));
             Scope s = Scope.open()) {
            long t = ((Number) data.manifest.list("timesteps_run").get(0)).longValue();
            Tensor one = concat(1, data.get("latents_start"), data.get("mask_latent"), data.get("masked_image_latents"));
            Tensor context = concat(0, prompts.get("negative_prompt_embeds"), prompts.get("prompt_embeds"));
            data.assertClose("unet_out_step0", unet.forward(concat(0, one, one), (float) t, context));
        }
    }
}
