/**
 * CLIP towers as transformers defines them: {@link dev.zoetrope.models.clip.ClipTextModel} (Stable Diffusion's
 * text encoder, with clip_skip and the optional text projection) and
 * {@link dev.zoetrope.models.clip.ClipVisionModel} (CLIPVisionModelWithProjection, I2VGen-XL's image encoder).
 */
package dev.zoetrope.models.clip;
