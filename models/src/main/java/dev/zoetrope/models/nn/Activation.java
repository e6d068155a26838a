package dev.zoetrope.models.nn;

import dev.zoetrope.core.Ops;
import dev.zoetrope.core.Tensor;

/**
 * The activations configs name: diffusers' {@code get_activation} ("silu"/"swish", "gelu", "relu") and
 * transformers' {@code ACT2FN} ("gelu" = erf form, "gelu_new"/"gelu_pytorch_tanh"/"gelu_fast" = tanh form,
 * "quick_gelu").
 */
public enum Activation {
    SILU, GELU, GELU_TANH, QUICK_GELU, RELU;

    /** Maps a config value; {@code where} names the config field for the error. */
    public static Activation fromConfig(String name, String where) {
        return switch (name) {
            case "silu", "swish" -> SILU;
            case "gelu" -> GELU;
            case "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu-approximate" -> GELU_TANH;
            case "quick_gelu" -> QUICK_GELU;
            case "relu" -> RELU;
            default -> throw new IllegalArgumentException(where + ": unsupported activation \"" + name
                    + "\" (supported: silu/swish, gelu, gelu_new/gelu_pytorch_tanh, quick_gelu, relu)");
        };
    }

    public Tensor apply(Tensor x) {
        return switch (this) {
            case SILU -> Ops.silu(x);
            case GELU -> Ops.gelu(x);
            case GELU_TANH -> Ops.geluTanh(x);
            case QUICK_GELU -> Ops.quickGelu(x);
            case RELU -> Ops.relu(x);
        };
    }
}
