/**
 * Stable Diffusion 1.x/2.x pipelines that compute what diffusers v0.40 computes for the same checkpoint and seed:
 * {@link dev.zoetrope.diffusion.pipelines.StableDiffusion} runs text-to-image, image-to-image and inpainting from
 * immutable requests ({@link dev.zoetrope.diffusion.pipelines.Txt2ImgRequest},
 * {@link dev.zoetrope.diffusion.pipelines.Img2ImgRequest}, {@link dev.zoetrope.diffusion.pipelines.InpaintRequest},
 * sharing {@link dev.zoetrope.diffusion.pipelines.GenerationSettings}) to an
 * {@link dev.zoetrope.diffusion.pipelines.ImageResult} (images, final latents, the settings and seed used, the
 * AUTOMATIC1111-style parameters line). {@link dev.zoetrope.diffusion.pipelines.StableDiffusionLoader} opens
 * diffusers folders, single-file LDM checkpoints and hub repo ids.
 *
 * <p>What is reproduced, stage by stage (checked against the sd fixtures, see PipelineParityTest):
 * <ul>
 *   <li>encode_prompt: CLIP tokens padded to 77 (longer prompts truncated, with a warning naming the dropped text),
 *       the prompt through the text encoder with clip_skip, the negative prompt without it (as diffusers), each
 *       repeated per image; guidance batches [uncond, cond]; guidance_rescale per diffusers' rescale_noise_cfg;</li>
 *   <li>noise: every Gaussian draw through one {@link dev.zoetrope.diffusion.noise.NoiseSource}, by default
 *       torch.Generator("cpu").manual_seed(seed), in diffusers' call order — img2img: the VAE posterior sample of
 *       the image, then the latent noise; inpaint: image posterior (4-channel UNets or strength &lt; 1), latent
 *       noise, masked-image posterior; then the scheduler's own draws (Euler a, DDIM with η &gt; 0);</li>
 *   <li>txt2img: latents × init_noise_sigma (given latents too); img2img/inpaint: get_timesteps with
 *       set_begin_index, add_noise at the first remaining timestep (inpaint at strength 1: pure noise);</li>
 *   <li>images: Pillow-exact Lanczos resize to the output size ({@link dev.zoetrope.diffusion.pipelines.VaeImageProcessor}),
 *       [−1, 1]; masks as Pillow "L", binarised at 0.5, nearest-resized to the latents, masked image = image ·
 *       (mask &lt; 0.5); 9-channel UNets get cat(latents, mask, masked-image latents), 4-channel UNets diffusers' blend
 *       after each step (or the alternative {@link dev.zoetrope.diffusion.pipelines.InpaintBlend#BEFORE_STEP});</li>
 *   <li>decode(latents / scaling_factor), clamp(x·0.5 + 0.5, 0, 1), round(x·255) half to even.</li>
 * </ul>
 * Runs report progress (with the latents as a preview) and can be cancelled between steps
 * ({@link dev.zoetrope.diffusion.pipelines.RunOptions}); an {@link dev.zoetrope.diffusion.pipelines.Inspector}
 * taps the intermediates under diffusers' names.
 */
package dev.zoetrope.diffusion.pipelines;
