package dev.zoetrope.bench;

import dev.zoetrope.core.Backend;
import dev.zoetrope.core.Tensor;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * A backend that delegates every op and records its wall-clock time, keyed by op and input shapes, so
 * {@code zoe bench unet --profile} can show where a forward pass spends its time. Ops run synchronously on the
 * CPU backend, so an op's wall time is its cost; time outside any op (views made contiguous by model code,
 * glue) is what remains of the total.
 */
final class ProfilingBackend implements Backend {
    private final Backend inner;
    private final Map<String, Entry> entries = new HashMap<>();

    /** Calls, total nanoseconds and multiply-add FLOPs of one op on one shape. */
    static final class Entry {
        final String op;
        final String shapes;
        long calls;
        long nanos;
        double flops;

        Entry(String op, String shapes) {
            this.op = op;
            this.shapes = shapes;
        }
    }

    ProfilingBackend(Backend inner) {
        this.inner = inner;
    }

    private <T> T timed(String op, double flops, Supplier<T> call, Tensor... inputs) {
        long start = System.nanoTime();
        T result = call.get();
        long nanos = System.nanoTime() - start;
        String shapes = Arrays.stream(inputs).map(t -> t == null ? "-" : Arrays.toString(t.shape()))
                .collect(Collectors.joining(" "));
        Entry e = entries.computeIfAbsent(op + "|" + shapes, k -> new Entry(op, shapes));
        e.calls++;
        e.nanos += nanos;
        e.flops += flops;
        return result;
    }

    long totalNanos() {
        long n = 0;
        for (Entry e : entries.values()) n += e.nanos;
        return n;
    }

    /**
     * Prints the ops by total time, each op's time summed over shapes, then the {@code top} most expensive (op,
     * shapes) rows with their GFLOP/s where FLOPs are counted.
     */
    void report(double wallSeconds, int top, PrintStream out) {
        double total = totalNanos() / 1e9;
        Map<String, double[]> byOp = new HashMap<>();
        for (Entry e : entries.values()) {
            double[] v = byOp.computeIfAbsent(e.op, k -> new double[3]);
            v[0] += e.nanos / 1e9;
            v[1] += e.calls;
            v[2] += e.flops;
        }
        out.printf(Locale.ROOT, "  profile: %.2f s in ops, %.2f s outside them (copies, glue), wall %.2f s%n", total,
                wallSeconds - total, wallSeconds);
        List<Map.Entry<String, double[]>> ops = new ArrayList<>(byOp.entrySet());
        ops.sort((a, b) -> Double.compare(b.getValue()[0], a.getValue()[0]));
        for (Map.Entry<String, double[]> op : ops) {
            double[] v = op.getValue();
            String rate = v[2] > 0 ? String.format(Locale.ROOT, "%7.1f GFLOP/s", v[2] / v[0] / 1e9) : "";
            out.printf(Locale.ROOT, "    %-14s %7.3f s %5.1f%% %6d calls %s%n", op.getKey(), v[0], 100 * v[0] / wallSeconds,
                    (long) v[1], rate);
        }
        List<Entry> rows = new ArrayList<>(entries.values());
        rows.sort((a, b) -> Long.compare(b.nanos, a.nanos));
        out.println("  most expensive op shapes:");
        for (Entry e : rows.subList(0, Math.min(top, rows.size()))) {
            String rate = e.flops > 0 ? String.format(Locale.ROOT, "%7.1f GFLOP/s", e.flops / (e.nanos / 1e9) / 1e9) : "";
            out.printf(Locale.ROOT, "    %7.3f s %4d× %-10s %-60s %s%n", e.nanos / 1e9, e.calls, e.op, e.shapes, rate);
        }
    }

    @Override
    public String name() {
        return inner.name() + " (profiling)";
    }

    @Override
    public Tensor binary(Binary op, Tensor a, Tensor b) {
        return timed(op.name().toLowerCase(Locale.ROOT), 0, () -> inner.binary(op, a, b), a, b);
    }

    @Override
    public Tensor unary(Unary op, Tensor a) {
        return timed(op.name().toLowerCase(Locale.ROOT), 0, () -> inner.unary(op, a), a);
    }

    @Override
    public Tensor axpby(float alpha, Tensor a, float beta, Tensor b) {
        return timed("axpby", 0, () -> inner.axpby(alpha, a, beta, b), a, b);
    }

    @Override
    public Tensor affine(Tensor a, float scale, float shift) {
        return timed("affine", 0, () -> inner.affine(a, scale, shift), a);
    }

    @Override
    public Tensor clamp(Tensor a, float min, float max) {
        return timed("clamp", 0, () -> inner.clamp(a, min, max), a);
    }

    @Override
    public Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        double flops = 2.0 * (x.numel() / x.dim(x.rank() - 1)) * weight.dim(0) * weight.dim(1);
        return timed("linear", flops, () -> inner.linear(x, weight, bias), x, weight);
    }

    @Override
    public Tensor linearGroup(Tensor x, List<Tensor> weights, List<Tensor> biases) {
        double flops = 0;
        for (Tensor w : weights) flops += 2.0 * (x.numel() / x.dim(x.rank() - 1)) * w.dim(0) * w.dim(1);
        return timed("linearGroup", flops, () -> inner.linearGroup(x, weights, biases), x, weights.getFirst());
    }

    @Override
    public Tensor matmul(Tensor a, Tensor b) {
        double flops = 2.0 * a.numel() / a.dim(a.rank() - 2) * a.dim(a.rank() - 2) * b.dim(b.rank() - 1);
        return timed("matmul", flops, () -> inner.matmul(a, b), a, b);
    }

    @Override
    public Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int strideH, int strideW, int padH, int padW,
                         int dilationH, int dilationW, int groups) {
        Tensor[] out = new Tensor[1];
        long start = System.nanoTime();
        out[0] = inner.conv2d(x, weight, bias, strideH, strideW, padH, padW, dilationH, dilationW, groups);
        long nanos = System.nanoTime() - start;
        double flops = 2.0 * out[0].numel() * weight.dim(1) * weight.dim(2) * weight.dim(3);
        String key = "conv2d|" + Arrays.toString(x.shape()) + " " + Arrays.toString(weight.shape()) + " s" + strideH;
        Entry e = entries.computeIfAbsent(key, k -> new Entry("conv2d", key.substring(7)));
        e.calls++;
        e.nanos += nanos;
        e.flops += flops;
        return out[0];
    }

    @Override
    public Tensor convTemporal(Tensor x, Tensor weight, Tensor bias, int padT) {
        return timed("convTemporal", 0, () -> inner.convTemporal(x, weight, bias, padT), x, weight);
    }

    @Override
    public Tensor interpolate(Tensor x, int outH, int outW, Interpolation mode, boolean alignCorners) {
        return timed("interpolate", 0, () -> inner.interpolate(x, outH, outW, mode, alignCorners), x);
    }

    @Override
    public Tensor avgPool2d(Tensor x, int kernel, int stride) {
        return timed("avgPool2d", 0, () -> inner.avgPool2d(x, kernel, stride), x);
    }

    @Override
    public Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps) {
        return timed("groupNorm", 0, () -> inner.groupNorm(x, groups, weight, bias, eps), x);
    }

    @Override
    public Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, float eps) {
        return timed("layerNorm", 0, () -> inner.layerNorm(x, weight, bias, eps), x);
    }

    @Override
    public Tensor rmsNorm(Tensor x, Tensor weight, float eps) {
        return timed("rmsNorm", 0, () -> inner.rmsNorm(x, weight, eps), x);
    }

    @Override
    public Tensor softmax(Tensor x) {
        return timed("softmax", 0, () -> inner.softmax(x), x);
    }

    @Override
    public Tensor attention(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal, float scale) {
        double flops = 2.0 * q.dim(0) * q.dim(1) * q.dim(2) * k.dim(2) * (q.dim(3) + v.dim(3));
        return timed("attention", flops, () -> inner.attention(q, k, v, mask, causal, scale), q, k);
    }

    @Override
    public Tensor rope(Tensor x, long[] positions, double theta) {
        return timed("rope", 0, () -> inner.rope(x, positions, theta), x);
    }

    @Override
    public Tensor concat(int dim, List<Tensor> tensors) {
        return timed("concat", 0, () -> inner.concat(dim, tensors), tensors.toArray(Tensor[]::new));
    }

    @Override
    public Tensor embedding(Tensor weight, Tensor ids) {
        return timed("embedding", 0, () -> inner.embedding(weight, ids), weight, ids);
    }

    @Override
    public Tensor argmax(Tensor x) {
        return timed("argmax", 0, () -> inner.argmax(x), x);
    }

    @Override
    public Tensor[] topk(Tensor x, int k) {
        return timed("topk", 0, () -> inner.topk(x, k), x);
    }

    @Override
    public Tensor sumLast(Tensor x) {
        return timed("sumLast", 0, () -> inner.sumLast(x), x);
    }

    @Override
    public Tensor meanLast(Tensor x) {
        return timed("meanLast", 0, () -> inner.meanLast(x), x);
    }

    @Override
    public Tensor pad(Tensor x, float value, int... pads) {
        return timed("pad", 0, () -> inner.pad(x, value, pads), x);
    }
}
