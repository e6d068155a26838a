package dev.zoetrope.models.ldm;

import dev.zoetrope.core.CheckpointException;
import dev.zoetrope.core.Weights;
import dev.zoetrope.models.clip.ClipTextConfig;
import dev.zoetrope.models.clip.ClipTextModel;
import dev.zoetrope.models.unet.UNet2DConditionConfig;
import dev.zoetrope.models.unet.UNet2DConditionModel;
import dev.zoetrope.models.vae.AutoencoderKL;
import dev.zoetrope.models.vae.AutoencoderKLConfig;

import java.nio.file.Path;
import java.util.Set;

/**
 * A Stable Diffusion 1.x/2.x "single file" checkpoint with the original LDM (CompVis / Stability) tensor names,
 * as model sites share them: {@code model.diffusion_model.*} (UNet), {@code first_stage_model.*} (VAE),
 * {@code cond_stage_model.transformer.*} (SD 1.x CLIP ViT-L) or {@code cond_stage_model.model.*} (SD 2.x
 * OpenCLIP ViT-H); a standalone LDM VAE file (unprefixed {@code encoder.*}/{@code decoder.*}) works too. Each component is offered as a diffusers-named, zero-copy view of the mapped file, with a
 * config inferred from the tensor shapes (or one the caller gives, e.g. from a diffusers folder).
 * Non-EMA weights are used, as diffusers does by default. The checkpoint must stay open while models built from
 * it are used.
 */
public final class LdmCheckpoint implements AutoCloseable {
    /** Which text encoder the file carries. */
    public enum TextEncoderLayout { OPENAI_CLIP, OPEN_CLIP, NONE }

    /**
     * The Stable Diffusion variant as diffusers' {@code infer_diffusers_model_type} classifies a single file, with
     * the hub repository whose configs (scheduler, tokenizer, prediction type) diffusers then uses for it.
     */
    public enum ModelType {
        V1("stable-diffusion-v1-5/stable-diffusion-v1-5"),
        V2("stabilityai/stable-diffusion-2-1"),
        INPAINTING("stable-diffusion-v1-5/stable-diffusion-inpainting"),
        INPAINTING_V2("stabilityai/stable-diffusion-2-inpainting");

        private final String referenceRepo;

        ModelType(String referenceRepo) {
            this.referenceRepo = referenceRepo;
        }

        public String referenceRepo() {
            return referenceRepo;
        }
    }

    private final Weights base;
    private final RenamedWeights unet;          // null when absent
    private final RenamedWeights vae;
    private final RenamedWeights textEncoder;
    private final TextEncoderLayout textLayout;

    private LdmCheckpoint(Weights base) {
        this.base = base;
        Path file = base.source();
        Set<String> names = base.names();
        unet = UnetKeys.present(names) ? new RenamedWeights(base, UnetKeys.map(names, file)) : null;
        String vaePrefix = VaeKeys.prefix(names);
        vae = vaePrefix != null ? new RenamedWeights(base, VaeKeys.map(names, vaePrefix, file)) : null;
        if (names.stream().anyMatch(n -> n.startsWith(ClipKeys.OPENAI_PREFIX))) {
            textLayout = TextEncoderLayout.OPENAI_CLIP;
            textEncoder = new RenamedWeights(base, ClipKeys.mapOpenAi(names));
        } else if (names.stream().anyMatch(n -> n.startsWith(ClipKeys.OPEN_CLIP_PREFIX))) {
            textLayout = TextEncoderLayout.OPEN_CLIP;
            textEncoder = new RenamedWeights(base, ClipKeys.mapOpenClip(names, base));
        } else {
            textLayout = TextEncoderLayout.NONE;
            textEncoder = null;
        }
        if (unet == null && vae == null && textEncoder == null) {
            boolean sdxl = names.stream().anyMatch(n -> n.startsWith("conditioner.embedders."));
            throw new CheckpointException(file + ": not an LDM Stable Diffusion checkpoint (no model.diffusion_model.*, "
                    + "first_stage_model.* or cond_stage_model.* tensors)"
                    + (sdxl ? "; conditioner.embedders.* suggests SDXL, which is not supported" : ""));
        }
    }

    /** Opens a single-file checkpoint (a .safetensors file, or a sharded index). */
    public static LdmCheckpoint open(Path file) {
        Weights base = Weights.open(file);
        try {
            return new LdmCheckpoint(base);
        } catch (RuntimeException e) {
            base.close();
            throw e;
        }
    }

    public Path source() {
        return base.source();
    }

    public boolean hasUnet() {
        return unet != null;
    }

    public boolean hasVae() {
        return vae != null;
    }

    public TextEncoderLayout textEncoderLayout() {
        return textLayout;
    }

    /**
     * diffusers' classification: 9 input channels → inpainting; a 1024-wide cross-attention (OpenCLIP) → 2.x.
     * (diffusers then configures a 2.x file like stable-diffusion-2-1, i.e. v-prediction.)
     */
    public ModelType modelType() {
        String convIn = UnetKeys.PREFIX + "input_blocks.0.0.weight";
        String v2Key = UnetKeys.PREFIX + "input_blocks.2.1.transformer_blocks.0.attn2.to_k.weight";
        if (!base.has(convIn)) throw new CheckpointException(base.source() + ": this checkpoint has no UNet ('" + convIn + "')");
        int[] k = base.has(v2Key) ? base.info(v2Key).shape() : null;
        boolean v2 = k != null && k[k.length - 1] == 1024;
        if (base.info(convIn).shape()[1] == 9) return v2 ? ModelType.INPAINTING_V2 : ModelType.INPAINTING;
        return v2 ? ModelType.V2 : ModelType.V1;
    }

    // ---------------------------------------------------------------- UNet

    /** The UNet weights under diffusers names. */
    public Weights unetWeights() {
        return require(unet, "UNet (model.diffusion_model.*)");
    }

    /** The UNet config read off the tensor shapes (see {@link UnetKeys#inferConfig}). */
    public UNet2DConditionConfig unetConfig() {
        return UNet2DConditionConfig.parse(UnetKeys.inferConfig(unetWeights()), inferred("UNet"));
    }

    public UNet2DConditionModel unet() {
        return unet(unetConfig());
    }

    public UNet2DConditionModel unet(UNet2DConditionConfig config) {
        return UNet2DConditionModel.of(config, unetWeights());
    }

    // ---------------------------------------------------------------- VAE

    public Weights vaeWeights() {
        return require(vae, "VAE (first_stage_model.*)");
    }

    public AutoencoderKLConfig vaeConfig() {
        return AutoencoderKLConfig.parse(VaeKeys.inferConfig(vaeWeights()), inferred("VAE"));
    }

    public AutoencoderKL vae() {
        return vae(vaeConfig());
    }

    public AutoencoderKL vae(AutoencoderKLConfig config) {
        return AutoencoderKL.of(config, vaeWeights());
    }

    // ---------------------------------------------------------------- text encoder

    /** The text encoder weights under transformers' CLIPTextModel names ({@code text_model.…}). */
    public Weights textEncoderWeights() {
        return require(textEncoder, "text encoder (cond_stage_model.*)");
    }

    public ClipTextConfig textEncoderConfig() {
        return ClipTextConfig.parse(ClipKeys.inferConfig(textEncoderWeights(), textLayout == TextEncoderLayout.OPEN_CLIP),
                inferred("text encoder"));
    }

    public ClipTextModel textEncoder() {
        return textEncoder(textEncoderConfig());
    }

    public ClipTextModel textEncoder(ClipTextConfig config) {
        return ClipTextModel.of(config, textEncoderWeights());
    }

    private Weights require(Weights w, String what) {
        if (w == null) throw new CheckpointException(base.source() + ": this checkpoint has no " + what);
        return w;
    }

    private String inferred(String what) {
        return base.source() + " (" + what + " config inferred from the LDM tensor shapes)";
    }

    @Override
    public void close() {
        base.close();
    }
}
