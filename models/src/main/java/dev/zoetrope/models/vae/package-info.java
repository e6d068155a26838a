/**
 * diffusers' {@link dev.zoetrope.models.vae.AutoencoderKL}: encode to a
 * {@link dev.zoetrope.models.vae.DiagonalGaussian} posterior, decode, optionally tiled for large images.
 */
package dev.zoetrope.models.vae;
