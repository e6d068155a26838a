package dev.zoetrope.diffusion.schedulers;

import dev.zoetrope.core.SafeTensors;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.testing.Fixtures;

import java.util.Arrays;

/**
 * torch's own draws from {@code torch.Generator('cpu').manual_seed(0)}, read from the rng fixtures (the full
 * float32 tensor of {@code torch.randn((1, 4, 16, 64, 64))}), handed out in order. torch fills a float32 randn
 * in chunks of 16 counted from the start of each tensor, so consecutive {@code randn} calls whose sizes are
 * multiples of 16 consume exactly the prefix of one large call — which makes this equal to calling randn on
 * the seeded generator again and again, as diffusers' ancestral steps do.
 */
final class RecordedTorchNoise implements NoiseSource {
    private final float[] values;
    private int cursor;

    private RecordedTorchNoise(float[] values) {
        this.values = values;
    }

    static RecordedTorchNoise seed0() {
        Fixtures.Case c = Fixtures.cases("rng", "randn").stream()
                .filter(k -> k.name().equals("randn_seed_0")).findFirst()
                .orElseThrow(() -> new IllegalStateException("rng fixtures have no randn_seed_0 case"));
        try (SafeTensors t = SafeTensors.open(c.tensors())) {
            return new RecordedTorchNoise(t.get("float32__1x4x16x64x64").toFloatArray());
        }
    }

    @Override
    public Tensor randn(int... shape) {
        int n = Math.toIntExact(Tensor.numel(shape));
        if (n % 16 != 0) {
            throw new IllegalArgumentException("recorded draws only stand in for randn of a multiple of 16 values, not "
                    + Arrays.toString(shape));
        }
        if (cursor + n > values.length) throw new IllegalStateException("recorded torch draws exhausted");
        Tensor t = Tensor.of(Arrays.copyOfRange(values, cursor, cursor + n), shape);
        cursor += n;
        return t;
    }
}
