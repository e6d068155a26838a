/**
 * Single-file Stable Diffusion 1.x/2.x checkpoints with the original LDM tensor names
 * ({@link dev.zoetrope.models.ldm.LdmCheckpoint}): the UNet, VAE and text encoder are exposed under diffusers /
 * transformers names as zero-copy views, with configs inferred from the tensor shapes.
 */
package dev.zoetrope.models.ldm;
