package dev.zoetrope.diffusion.noise;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.noise.TorchGenerator;

import java.util.List;

/**
 * Where pipelines and schedulers draw Gaussian noise (initial latents, ancestral / eta &gt; 0 steps,
 * img2img and inpaint re-noising), so that a seed reproduces the reference exactly. Implementations follow
 * diffusers' {@code randn_tensor}: see {@link TorchNoise}.
 */
@FunctionalInterface
public interface NoiseSource {
    /** Standard normal noise of {@code shape}, contiguous, in the current scope. */
    Tensor randn(DType dtype, int... shape);

    /** F32 noise, what diffusers draws for a float32 pipeline. */
    default Tensor randn(int... shape) {
        return randn(DType.F32, shape);
    }

    /** {@code randn_tensor(shape, generator=g)}: every draw is one {@code torch.randn} call on {@code g}. */
    static NoiseSource of(TorchGenerator generator) {
        return new TorchNoise(List.of(generator));
    }

    /** {@code randn_tensor(shape, generator=torch.Generator("cpu").manual_seed(seed))}. */
    static NoiseSource seeded(long seed) {
        return of(TorchGenerator.seeded(seed));
    }

    /**
     * {@code randn_tensor(shape, generator=[g0, g1, ...])}: batch entry i is drawn from generator i (one
     * generator per image, as diffusers does to seed images of a batch separately). A list of one behaves
     * like a single generator.
     */
    static NoiseSource perSample(List<TorchGenerator> generators) {
        return new TorchNoise(generators);
    }
}
