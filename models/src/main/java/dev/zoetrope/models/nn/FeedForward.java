package dev.zoetrope.models.nn;

import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;

import static dev.zoetrope.core.Ops.mul;

/**
 * diffusers {@code FeedForward}: {@code net.0} an activation module with its own projection ({@code net.0.proj}),
 * {@code net.2} the output Linear. "geglu" splits net.0.proj's output [.., 2·inner] into (h, gate) and returns
 * h·gelu(gate); "gelu" / "gelu-approximate" apply GELU (erf / tanh) to the projection.
 */
public final class FeedForward {
    public enum Kind { GEGLU, GELU, GELU_TANH }

    private final Kind kind;
    private final Linear proj;   // [inner or 2·inner, dim]
    private final Linear out;    // [dimOut, inner]

    private FeedForward(Kind kind, Linear proj, Linear out) {
        this.kind = kind;
        this.proj = proj;
        this.out = out;
    }

    /** Maps diffusers' activation_fn names. */
    public static Kind kind(String activationFn) {
        return switch (activationFn) {
            case "geglu" -> Kind.GEGLU;
            case "gelu" -> Kind.GELU;
            case "gelu-approximate" -> Kind.GELU_TANH;
            default -> throw new IllegalArgumentException("unsupported feed-forward activation_fn \"" + activationFn
                    + "\" (supported: geglu, gelu, gelu-approximate)");
        };
    }

    /** @param inner inner width (diffusers default dim·4) */
    public static FeedForward load(Params p, int dim, int inner, int dimOut, Kind kind, boolean bias) {
        int projOut = kind == Kind.GEGLU ? 2 * inner : inner;
        return new FeedForward(kind,
                Linear.load(p.child("net").child(0).child("proj"), dim, projOut, bias),
                Linear.load(p.child("net").child(2), inner, dimOut, bias));
    }

    /** x[..., dim] → [..., dimOut] */
    public Tensor forward(Tensor x) {
        try (Scope s = Scope.open()) {
            Tensor h = proj.forward(x);
            h = switch (kind) {
                case GEGLU -> {
                    int inner = h.dim(-1) / 2;
                    yield mul(h.narrow(-1, 0, inner), Activation.GELU.apply(h.narrow(-1, inner, inner)));
                }
                case GELU -> Activation.GELU.apply(h);
                case GELU_TANH -> Activation.GELU_TANH.apply(h);
            };
            return s.keep(out.forward(h));
        }
    }
}
