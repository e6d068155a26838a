/**
 * diffusers' {@link dev.zoetrope.models.unet.UNet2DConditionModel} for Stable Diffusion 1.x/2.x (4- and 9-channel
 * inputs), configured by {@link dev.zoetrope.models.unet.UNet2DConditionConfig} from {@code unet/config.json}.
 */
package dev.zoetrope.models.unet;
