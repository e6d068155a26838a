package dev.zoetrope.models.clip;

import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.models.nn.Activation;
import dev.zoetrope.models.nn.LayerNorm;
import dev.zoetrope.models.nn.Linear;
import dev.zoetrope.models.nn.Params;

import java.util.ArrayList;
import java.util.List;

import static dev.zoetrope.core.Ops.add;
import static dev.zoetrope.core.Ops.attention;

/**
 * transformers {@code CLIPEncoder}: pre-norm layers
 * {@code x += out_proj(attn(layer_norm1(x)));  x += fc2(act(fc1(layer_norm2(x))))}, shared by the text
 * (causal) and vision (bidirectional) towers. Weights: layers.N.{layer_norm1, self_attn.{q,k,v,out}_proj,
 * layer_norm2, mlp.fc1, mlp.fc2}.
 */
final class ClipEncoder {
    private record Layer(LayerNorm norm1, Linear q, Linear k, Linear v, Linear out, LayerNorm norm2, Linear fc1,
                         Linear fc2) {
    }

    private final List<Layer> layers;
    private final int heads;
    private final Activation act;

    ClipEncoder(Params p, int layerCount, int hidden, int intermediate, int heads, Activation act, float eps) {
        List<Layer> list = new ArrayList<>();
        for (int i = 0; i < layerCount; i++) {
            Params l = p.child("layers", i);
            Params a = l.child("self_attn");
            list.add(new Layer(
                    LayerNorm.load(l.child("layer_norm1"), hidden, eps),
                    Linear.load(a.child("q_proj"), hidden, hidden, true),
                    Linear.load(a.child("k_proj"), hidden, hidden, true),
                    Linear.load(a.child("v_proj"), hidden, hidden, true),
                    Linear.load(a.child("out_proj"), hidden, hidden, true),
                    LayerNorm.load(l.child("layer_norm2"), hidden, eps),
                    Linear.load(l.child("mlp").child("fc1"), hidden, intermediate, true),
                    Linear.load(l.child("mlp").child("fc2"), intermediate, hidden, true)));
        }
        this.layers = List.copyOf(list);
        this.heads = heads;
        this.act = act;
    }

    int size() {
        return layers.size();
    }

    /** Runs the first {@code count} layers on x[B, L, D] (causal: each token sees itself and earlier ones). */
    Tensor forward(Tensor x, int count, boolean causal) {
        for (int i = 0; i < count; i++) x = layer(layers.get(i), x, causal);
        return x;
    }

    private Tensor layer(Layer l, Tensor x, boolean causal) {
        try (Scope s = Scope.open()) {
            int b = x.dim(0), len = x.dim(1), d = x.dim(2), hd = d / heads;
            Tensor h = l.norm1().forward(x);
            Tensor q = l.q().forward(h).reshape(b, len, heads, hd).transpose(1, 2);   // [B, H, L, hd]
            Tensor k = l.k().forward(h).reshape(b, len, heads, hd).transpose(1, 2);
            Tensor v = l.v().forward(h).reshape(b, len, heads, hd).transpose(1, 2);
            Tensor o = attention(q, k, v, null, causal, (float) Math.pow(hd, -0.5));    // [B, H, L, hd]
            x = add(x, l.out().forward(o.transpose(1, 2).reshape(b, len, d)));
            h = l.fc2().forward(act.apply(l.fc1().forward(l.norm2().forward(x))));
            return s.keep(add(x, h));
        }
    }
}
