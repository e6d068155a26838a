package dev.zoetrope.diffusion.noise;

import dev.zoetrope.core.DType;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.noise.TorchGenerator;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;

/**
 * diffusers' {@code randn_tensor} ({@code diffusers/utils/torch_utils.py}) over {@link TorchGenerator}s:
 * <ul>
 *   <li>one generator (or a list of one): the whole shape is ONE {@code torch.randn(shape)} call, so a
 *       batch of 2 is not two images of the single-image noise but one stream split across the batch;</li>
 *   <li>a list of generators: batch entry i (dimension 0) is {@code torch.randn((1, *shape[1:]))} drawn from
 *       generator i, the entries concatenated along dimension 0. The list length must equal the batch size
 *       (diffusers' pipelines check this before calling randn_tensor).</li>
 * </ul>
 * Every draw advances the generators, as in torch, so a scheduler's per-step noise continues the stream
 * the initial latents started.
 */
public final class TorchNoise implements NoiseSource {
    private final List<TorchGenerator> generators;

    public TorchNoise(List<TorchGenerator> generators) {
        if (generators == null || generators.isEmpty()) {
            throw new IllegalArgumentException("TorchNoise needs at least one generator");
        }
        for (TorchGenerator g : generators) {
            if (g == null) throw new IllegalArgumentException("null generator in " + generators);
        }
        this.generators = List.copyOf(generators);
    }

    public List<TorchGenerator> generators() {
        return generators;
    }

    @Override
    public Tensor randn(DType dtype, int... shape) {
        return randnTensor(shape, generators, dtype);
    }

    /** {@code randn_tensor(shape, generator=generators, dtype=dtype)} on the CPU. */
    public static Tensor randnTensor(int[] shape, List<TorchGenerator> generators, DType dtype) {
        if (generators.size() == 1) return generators.get(0).randn(dtype, shape);
        if (shape.length == 0) {
            throw new IllegalArgumentException("a list of " + generators.size() + " generators needs a batch dimension;"
                    + " got a scalar shape");
        }
        int batch = shape[0];
        if (generators.size() != batch) {
            throw new IllegalArgumentException("You have passed a list of generators of length " + generators.size()
                    + ", but requested an effective batch size of " + batch + " (shape " + Arrays.toString(shape)
                    + "). Make sure the batch size matches the length of the generators.");
        }
        int[] rowShape = shape.clone();
        rowShape[0] = 1;
        Tensor out = Tensor.empty(dtype, shape);
        long rowBytes = Tensor.numel(rowShape) * dtype.byteSize();
        for (int i = 0; i < batch; i++) {
            try (Scope scope = Scope.open()) {
                Tensor row = generators.get(i).randn(dtype, rowShape);
                MemorySegment.copy(row.segment(), row.offset() * dtype.byteSize(), out.segment(), i * rowBytes, rowBytes);
            }
        }
        return out;
    }
}
