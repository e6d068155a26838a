package dev.zoetrope.models.vae;

import dev.zoetrope.core.Tensor;

import java.util.Arrays;

import static dev.zoetrope.core.Ops.add;
import static dev.zoetrope.core.Ops.exp;
import static dev.zoetrope.core.Ops.mul;
import static dev.zoetrope.core.Ops.scale;

/**
 * diffusers {@code DiagonalGaussianDistribution}: the encoder's posterior over latents, mean and log-variance
 * [N, latent_channels, h, w] (logvar already clamped to [−30, 20]).
 */
public record DiagonalGaussian(Tensor mean, Tensor logvar) {
    /** std = exp(0.5 · logvar), in the current scope. */
    public Tensor std() {
        return exp(scale(logvar, 0.5f));
    }

    /** A posterior sample {@code mean + std · noise} for given standard-normal noise of the same shape. */
    public Tensor sample(Tensor noise) {
        if (!Arrays.equals(noise.shape(), mean.shape())) {
            throw new IllegalArgumentException("posterior noise has shape " + Arrays.toString(noise.shape())
                    + ", expected " + Arrays.toString(mean.shape()));
        }
        return add(mean, mul(std(), noise));
    }

    /** The mode (= mean). */
    public Tensor mode() {
        return mean;
    }
}
