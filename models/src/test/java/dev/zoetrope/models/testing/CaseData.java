package dev.zoetrope.models.testing;

import dev.zoetrope.core.Json;
import dev.zoetrope.core.SafeTensors;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.testing.Compare;
import dev.zoetrope.core.testing.Fixtures;

import java.util.ArrayList;
import java.util.List;

/** One fixture case opened for a test: its tensors, its manifest and the manifest's suggested tolerance. */
public final class CaseData implements AutoCloseable {
    public final Fixtures.Case fixture;
    public final Json.Obj manifest;
    public final SafeTensors tensors;
    public final double atol;
    public final double rtol;

    public CaseData(Fixtures.Case fixture) {
        this.fixture = fixture;
        this.manifest = fixture.manifest();
        this.tensors = SafeTensors.open(fixture.tensors());
        Json.Obj tol = manifest.obj("suggested_tolerance");
        if (tol == null) throw new IllegalStateException(fixture.name() + ": manifest has no suggested_tolerance");
        this.atol = tol.doubleValue("atol", Double.NaN);
        this.rtol = tol.doubleValue("rtol", Double.NaN);
        if (Double.isNaN(atol) || Double.isNaN(rtol)) throw new IllegalStateException(fixture.name() + ": bad tolerance " + tol);
    }

    public Tensor get(String name) {
        return tensors.get(name);
    }

    /** Names of the manifest's tensors with the given role ("input", "output", "intermediate"), in order. */
    public List<String> names(String role) {
        List<String> out = new ArrayList<>();
        for (var e : manifest.obj("tensors").map().entrySet()) {
            if (role.equals(Json.Obj.of(e.getValue()).string("role", ""))) out.add(e.getKey());
        }
        return out;
    }

    /**
     * The largest input named {@code prefix} or {@code prefix_<suffix>} (the unet case's sample_32x32 …, the vae
     * case's x_64x64 / z_24x40 …), for tests that need "an input of this kind" whatever sizes the fixture set has.
     */
    public Tensor largestInput(String prefix) {
        Tensor best = null;
        for (String name : names("input")) {
            if (!name.equals(prefix) && !name.startsWith(prefix + "_")) continue;
            Tensor t = get(name);
            if (best == null || t.numel() > best.numel()) best = t;
        }
        if (best == null) throw new IllegalStateException(fixture.name() + ": no input named " + prefix + "_*");
        return best;
    }

    /** Checks {@code actual} against the stored tensor {@code name} with the case tolerance. */
    public void assertClose(String name, Tensor actual) {
        Compare.assertClose(fixture.name() + "/" + name, actual, get(name), atol, rtol);
    }

    @Override
    public void close() {
        tensors.close();
    }
}
