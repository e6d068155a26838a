package dev.zoetrope.diffusion.pipelines;

import dev.zoetrope.core.Json;
import dev.zoetrope.core.testing.Fixtures;

import java.nio.file.Path;
import java.util.Objects;

/** The models and shared data of the sd fixtures, found through index.json and the case manifests (never by name). */
final class SdFixtures {
    private SdFixtures() {
    }

    /** The Stable Diffusion model the txt2img cases ran. */
    static Path model() {
        return Fixtures.modelDir("sd", "txt2img");
    }

    /** The model of the inpaint cases run with a 9-channel (inpainting) UNet. */
    static Path inpaintingModel() {
        return Fixtures.cases("sd", "inpaint").stream()
                .filter(c -> c.manifest().intValue("unet_in_channels", 4) == 9).findFirst()
                .orElseThrow(() -> new IllegalStateException("no inpaint case with unet_in_channels 9 in the sd fixtures"))
                .modelDir();
    }

    /**
     * The txt2img case that stores the prompt embeddings of a case without its own (img2img / inpaint manifests:
     * "prompt_embeds_note"): the one with the same prompt and negative prompt.
     */
    static Fixtures.Case promptEmbeddingsFor(Json.Obj manifest) {
        String prompt = manifest.string("prompt", null), negative = manifest.string("negative_prompt", null);
        return Fixtures.cases("sd", "txt2img").stream()
                .filter(c -> Objects.equals(prompt, c.manifest().string("prompt", null))
                        && Objects.equals(negative, c.manifest().string("negative_prompt", null)))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no txt2img case stores the embeddings of prompt " + Json.write(prompt)
                        + " / negative prompt " + Json.write(negative)));
    }
}
