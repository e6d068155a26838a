/**
 * Building blocks shared by the diffusion model families, each binding its weights by the diffusers /
 * transformers checkpoint names below a {@link dev.zoetrope.models.nn.Params} position and computing with
 * {@link dev.zoetrope.core.Ops} only: {@link dev.zoetrope.models.nn.ResnetBlock2D},
 * {@link dev.zoetrope.models.nn.Attention} (token and spatial forms), {@link dev.zoetrope.models.nn.FeedForward}
 * (GEGLU), {@link dev.zoetrope.models.nn.BasicTransformerBlock}, {@link dev.zoetrope.models.nn.Transformer2DModel},
 * {@link dev.zoetrope.models.nn.Downsample2D} / {@link dev.zoetrope.models.nn.Upsample2D},
 * {@link dev.zoetrope.models.nn.Timesteps} / {@link dev.zoetrope.models.nn.TimestepEmbedding} and
 * {@link dev.zoetrope.models.nn.UNetMidBlock2D}. The 2-D UNet and the VAE compose them; the 3-D UNets
 * (I2VGen-XL, UNet3D) are meant to compose the same pieces with their temporal layers in between.
 * Each forward opens its own {@link dev.zoetrope.core.Scope}, so intermediates die with the block.
 */
package dev.zoetrope.models.nn;
