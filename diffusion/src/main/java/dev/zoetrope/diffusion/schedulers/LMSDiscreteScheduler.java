package dev.zoetrope.diffusion.schedulers;

import dev.zoetrope.core.Ops;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.diffusion.noise.NoiseSource;

import java.util.ArrayList;
import java.util.List;

import static dev.zoetrope.diffusion.schedulers.SigmaTables.orDefault;
import static dev.zoetrope.diffusion.schedulers.TensorMath.div;
import static dev.zoetrope.diffusion.schedulers.TensorMath.mul;

/**
 * Linear multistep in σ (k-diffusion's sample_lms), diffusers' {@code LMSDiscreteScheduler}: x_{i+1} = x_i +
 * Σ_k c_k·d_{i−k} over up to four past derivatives d = (x − x̂₀)/σ, where c_k integrates the Lagrange basis
 * polynomial through the past sigmas from σ_i to σ_{i+1}. diffusers integrates with scipy's quad; here the same
 * 21-point Gauss–Kronrod rule runs on the same float32 integrand, which it integrates exactly (degree ≤ 3).
 */
public final class LMSDiscreteScheduler extends SigmaScheduler {
    private static final int DEFAULT_ORDER = 4;

    private final History history = new History();
    /** Past derivatives, oldest first. */
    private final List<Tensor> derivatives = new ArrayList<>();
    private int lmsOrder = DEFAULT_ORDER;

    public LMSDiscreteScheduler(SchedulerConfig config) {
        super(config.as(SchedulerType.LMS), false);
    }

    /** The multistep order (the {@code order} argument of diffusers' step; 4 by default). */
    public LMSDiscreteScheduler setLmsOrder(int order) {
        if (order < 1) throw new IllegalArgumentException("LMS order must be >= 1, got " + order);
        this.lmsOrder = order;
        return this;
    }

    @Override
    public void setTimesteps(int n) {
        checkSteps(n);
        double[] ts = SigmaTables.floatTimesteps(config.timestepSpacing(), config.numTrainTimesteps(), n,
                config.stepsOffset());
        float[] trainSigmas = NoiseSchedule.sigmas(alphasCumprod);
        float[] logSigmas = SigmaTables.log(trainSigmas);
        double[] sig = NumpyCompat.interpOverIndex(ts, trainSigmas);
        if (config.useKarrasSigmas()) {
            // LMS's Karras conversion ignores sigma_min / sigma_max from the config
            sig = SigmaTables.karras(sig[sig.length - 1], sig[0], n);
            ts = SigmaTables.timestepsOf(sig, logSigmas);
        } else if (config.useExponentialSigmas()) {
            sig = SigmaTables.exponential(orDefault(config.sigmaMin(), sig[sig.length - 1]),
                    orDefault(config.sigmaMax(), sig[0]), n);
            ts = SigmaTables.timestepsOf(sig, logSigmas);
        } else if (config.useBetaSigmas()) {
            sig = BetaQuantile.betaSigmas(orDefault(config.sigmaMin(), sig[sig.length - 1]),
                    orDefault(config.sigmaMax(), sig[0]), n);
            ts = SigmaTables.timestepsOf(sig, logSigmas);
        }
        float[] sigmas = new float[sig.length + 1];
        for (int i = 0; i < sig.length; i++) sigmas[i] = (float) sig[i];
        double[] timesteps = new double[ts.length];
        for (int i = 0; i < ts.length; i++) timesteps[i] = (float) ts[i];
        install(timesteps, sigmas, n);
        for (Tensor d : derivatives) history.release(d);
        derivatives.clear();
    }

    /**
     * ∫_{σ_t}^{σ_{t+1}} Π_{k≠j} (τ − σ_{t−k})/(σ_{t−j} − σ_{t−k}) dτ, the integrand evaluated in float32 as
     * diffusers' torch scalars do.
     */
    double lmsCoefficient(int order, int t, int currentOrder) {
        float[] s = sigmas;
        return GaussKronrod.integrate(tau -> {
            float prod = 1f;
            float tauF = (float) tau;
            for (int k = 0; k < order; k++) {
                if (k == currentOrder) continue;
                prod *= (tauF - s[t - k]) / (s[t - currentOrder] - s[t - k]);
            }
            return prod;
        }, s[t], s[t + 1], 1.49e-8, 1e-4);
    }

    @Override
    public StepOutput step(Tensor modelOutput, double timestep, Tensor sample, NoiseSource noise) {
        beginStep(timestep);
        float sigma = sigmas[stepIndex];
        Tensor predOriginal = switch (config.predictionType()) {
            case EPSILON -> Ops.axpby(1f, sample, -sigma, modelOutput);
            case V_PREDICTION -> Ops.add(mul(modelOutput, -sigma / SigmaTables.inputScale(sigma)),
                    div(sample, sigma * sigma + 1f));
            case SAMPLE -> modelOutput;
            default -> throw new IllegalArgumentException("LMSDiscreteScheduler: prediction_type "
                    + config.predictionType() + " must be epsilon, sample or v_prediction");
        };
        Tensor derivative = div(Ops.sub(sample, predOriginal), sigma);
        derivatives.add(history.keep(derivative));
        while (derivatives.size() > lmsOrder) history.release(derivatives.removeFirst());
        int order = Math.min(stepIndex + 1, lmsOrder);
        // Σ c_k·d_{newest−k}, accumulated left to right as Python's sum() over zip(coeffs, reversed(derivatives))
        // (after a begin index the history can be shorter than the order; zip stops there)
        Tensor sum = null;
        for (int k = 0; k < Math.min(order, derivatives.size()); k++) {
            float coeff = (float) lmsCoefficient(order, stepIndex, k);
            Tensor d = derivatives.get(derivatives.size() - 1 - k);
            sum = sum == null ? mul(d, coeff) : Ops.axpby(1f, sum, coeff, d);
        }
        Tensor prev = Ops.add(sample, sum);
        stepIndex++;
        return new StepOutput(prev, predOriginal);
    }

    @Override
    public void close() {
        derivatives.clear();
        history.close();
    }
}
