package dev.zoetrope.diffusion.schedulers;

import dev.zoetrope.core.Ops;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.diffusion.noise.NoiseSource;
import dev.zoetrope.diffusion.schedulers.SchedulerConfig.AlgorithmType;
import dev.zoetrope.diffusion.schedulers.SchedulerConfig.FinalSigmasType;
import dev.zoetrope.diffusion.schedulers.SchedulerConfig.SolverType;

import static dev.zoetrope.diffusion.schedulers.SigmaTables.orDefault;
import static dev.zoetrope.diffusion.schedulers.TensorMath.div;
import static dev.zoetrope.diffusion.schedulers.TensorMath.mul;

/**
 * DPM-Solver / DPM-Solver++ multistep (Lu et al. 2022), diffusers' {@code DPMSolverMultistepScheduler}: orders
 * 1–3, midpoint or Heun second-order form, the SDE variants, Karras / exponential / Lu / flow sigmas, lower
 * order near the end, and dynamic thresholding. "DPM++ 2M Karras" is dpmsolver++ of order 2 with Karras
 * sigmas. Model outputs are converted to x̂₀ (dpmsolver++) or ε (dpmsolver) and the last {@code solver_order}
 * of them are kept.
 */
public final class DPMSolverMultistepScheduler extends SigmaScheduler {
    private final History history = new History();
    /** Converted model outputs, oldest first; null until filled. */
    private final Tensor[] modelOutputs;
    private int lowerOrderNums;

    public DPMSolverMultistepScheduler(SchedulerConfig config) {
        super(config.as(SchedulerType.DPM_SOLVER_MULTISTEP), true);
        SchedulerConfig c = this.config;
        if ((c.algorithmType() == AlgorithmType.DPMSOLVER || c.algorithmType() == AlgorithmType.SDE_DPMSOLVER)
                && c.finalSigmasType() == FinalSigmasType.ZERO) {
            throw new IllegalArgumentException(c.source() + ": final_sigmas_type zero is not supported for algorithm_type "
                    + c.algorithmType() + "; choose sigma_min");
        }
        modelOutputs = new Tensor[c.solverOrder()];
    }

    @Override
    public float initNoiseSigma() {
        return 1f;
    }

    @Override
    public Tensor scaleModelInput(Tensor sample, double timestep) {
        return sample;
    }

    @Override
    public void setTimesteps(int n) {
        checkSteps(n);
        int trainSteps = config.numTrainTimesteps();
        int lastTimestep = trainSteps - clippedIndex();
        double[] ts = switch (config.timestepSpacing()) {
            case LINSPACE -> {
                double[] asc = NumpyCompat.round(NumpyCompat.linspace(0, lastTimestep - 1, n + 1));
                yield descendingWithoutFirst(asc);
            }
            case LEADING -> {
                int stepRatio = lastTimestep / (n + 1);
                double[] asc = new double[n + 1];
                for (int i = 0; i <= n; i++) asc[i] = (double) i * stepRatio;
                double[] t = descendingWithoutFirst(asc);
                for (int i = 0; i < t.length; i++) t[i] += config.stepsOffset();
                yield t;
            }
            case TRAILING -> {
                double[] t = NumpyCompat.round(NumpyCompat.arange(lastTimestep, 0, -((double) trainSteps / n)));
                for (int i = 0; i < t.length; i++) t[i] -= 1;
                yield t;
            }
        };
        float[] trainSigmas = NoiseSchedule.sigmas(alphasCumprod);
        float[] logSigmas = SigmaTables.log(trainSigmas);
        boolean roundTimesteps = config.betaSchedule() != SchedulerConfig.BetaSchedule.SQUAREDCOS_CAP_V2;
        double[] sig;
        if (config.useKarrasSigmas()) {
            sig = SigmaTables.karras(orDefault(config.sigmaMin(), trainSigmas[0]),
                    orDefault(config.sigmaMax(), trainSigmas[trainSigmas.length - 1]), n);
            ts = SigmaTables.timestepsOf(sig, logSigmas);
            if (roundTimesteps) ts = NumpyCompat.round(ts);
        } else if (config.useLuLambdas()) {
            double lambdaMin = logSigmas[0], lambdaMax = logSigmas[logSigmas.length - 1];
            double[] ramp = NumpyCompat.linspace(0, 1, n);
            sig = new double[n];
            for (int i = 0; i < n; i++) sig[i] = Math.exp(lambdaMax + ramp[i] * (lambdaMin - lambdaMax));
            ts = SigmaTables.timestepsOf(sig, logSigmas);
            if (roundTimesteps) ts = NumpyCompat.round(ts);
        } else if (config.useExponentialSigmas()) {
            sig = SigmaTables.exponential(orDefault(config.sigmaMin(), trainSigmas[0]),
                    orDefault(config.sigmaMax(), trainSigmas[trainSigmas.length - 1]), n);
            ts = SigmaTables.timestepsOf(sig, logSigmas);
        } else if (config.useBetaSigmas()) {
            sig = BetaQuantile.betaSigmas(orDefault(config.sigmaMin(), trainSigmas[0]),
                    orDefault(config.sigmaMax(), trainSigmas[trainSigmas.length - 1]), n);
            ts = SigmaTables.timestepsOf(sig, logSigmas);
        } else if (config.useFlowSigmas()) {
            double shift = config.flowShift();
            double[] alphas = NumpyCompat.linspace(1, 1.0 / trainSteps, n + 1);
            sig = new double[n];
            ts = new double[n];
            for (int i = 0; i < n; i++) {
                double s = 1.0 - alphas[n - i]; // flipped, last dropped
                sig[i] = shift * s / (1 + (shift - 1) * s);
                ts[i] = sig[i] * trainSteps;
            }
        } else {
            sig = NumpyCompat.interpOverIndex(ts, trainSigmas);
        }
        float[] sigmas = withFinalSigma(sig);
        double[] timesteps = new double[ts.length];
        for (int i = 0; i < ts.length; i++) timesteps[i] = (double) (long) ts[i]; // .to(int64) truncates
        install(timesteps, sigmas, n);
        for (int i = 0; i < modelOutputs.length; i++) {
            history.release(modelOutputs[i]);
            modelOutputs[i] = null;
        }
        lowerOrderNums = 0;
    }

    /** {@code searchsorted(flip(λ_t), lambda_min_clipped)}: how many of the smallest λ lie below the clip. */
    private int clippedIndex() {
        double clip = config.lambdaMinClipped();
        int count = 0;
        for (float a : alphasCumprod) {
            float lambda = (float) Math.log((float) Math.sqrt(a)) - (float) Math.log((float) Math.sqrt(1f - a));
            if (lambda < clip) count++;
        }
        return count;
    }

    private static double[] descendingWithoutFirst(double[] ascending) {
        double[] out = new double[ascending.length - 1];
        for (int i = 0; i < out.length; i++) out[i] = ascending[ascending.length - 1 - i];
        return out;
    }

    /** A timestep missing from the schedule maps to the last step (diffusers' DPM-Solver lookup). */
    @Override
    protected int indexForTimestep(double timestep) {
        int index = scheduleIndex(timestep);
        return index >= 0 ? index : timesteps.length - 1;
    }

    /** α_t and σ_t of the VP process at noise level σ (or 1 − σ and σ for flow sigmas), float32. */
    private float[] alphaSigma(float sigma) {
        if (config.useFlowSigmas()) return new float[] {1f - sigma, sigma};
        float alpha = 1f / SigmaTables.inputScale(sigma);
        return new float[] {alpha, sigma * alpha};
    }

    private static float lambda(float[] alphaSigma) {
        return (float) Math.log(alphaSigma[0]) - (float) Math.log(alphaSigma[1]);
    }

    private static float exp(float x) {
        return (float) Math.exp(x);
    }

    /** x̂₀ (dpmsolver++) or ε (dpmsolver) from the raw model output. */
    private Tensor convertModelOutput(Tensor modelOutput, Tensor sample) {
        float sigma = sigmas[stepIndex];
        float[] as = alphaSigma(sigma);
        float alphaT = as[0], sigmaT = as[1];
        boolean learned = config.varianceType() != null;
        AlgorithmType algorithm = config.algorithmType();
        if (algorithm == AlgorithmType.DPMSOLVER_PLUS_PLUS || algorithm == AlgorithmType.SDE_DPMSOLVER_PLUS_PLUS) {
            Tensor x0 = switch (config.predictionType()) {
                case EPSILON -> {
                    Tensor eps = learned ? modelOutput.narrow(1, 0, 3) : modelOutput;
                    yield div(Ops.axpby(1f, sample, -sigmaT, eps), alphaT);
                }
                case SAMPLE -> modelOutput;
                case V_PREDICTION -> Ops.axpby(alphaT, sample, -sigmaT, modelOutput);
                case FLOW_PREDICTION -> Ops.axpby(1f, sample, -sigma, modelOutput);
            };
            if (config.thresholding()) x0 = Thresholding.apply(x0, config.dynamicThresholdingRatio(), config.sampleMaxValue());
            return x0;
        }
        Tensor eps = switch (config.predictionType()) {
            case EPSILON -> learned ? modelOutput.narrow(1, 0, 3) : modelOutput;
            case SAMPLE -> div(Ops.axpby(1f, sample, -alphaT, modelOutput), sigmaT);
            case V_PREDICTION -> Ops.axpby(alphaT, modelOutput, sigmaT, sample);
            case FLOW_PREDICTION -> throw new IllegalArgumentException("DPMSolverMultistepScheduler: flow_prediction"
                    + " needs algorithm_type dpmsolver++ or sde-dpmsolver++");
        };
        if (config.thresholding()) {
            Tensor x0 = div(Ops.axpby(1f, sample, -sigmaT, eps), alphaT);
            x0 = Thresholding.apply(x0, config.dynamicThresholdingRatio(), config.sampleMaxValue());
            eps = div(Ops.axpby(1f, sample, -alphaT, x0), sigmaT);
        }
        return eps;
    }

    @Override
    public StepOutput step(Tensor modelOutput, double timestep, Tensor sample, NoiseSource noise) {
        beginStep(timestep);
        int len = timesteps.length;
        boolean lowerOrderFinal = stepIndex == len - 1 && (config.eulerAtFinal()
                || (config.lowerOrderFinal() && len < 15) || config.finalSigmasType() == FinalSigmasType.ZERO);
        boolean lowerOrderSecond = stepIndex == len - 2 && config.lowerOrderFinal() && len < 15;

        Tensor converted = convertModelOutput(modelOutput, sample);
        history.release(modelOutputs[0]);
        System.arraycopy(modelOutputs, 1, modelOutputs, 0, modelOutputs.length - 1);
        modelOutputs[modelOutputs.length - 1] = history.keep(converted);

        Tensor stepNoise = null;
        AlgorithmType algorithm = config.algorithmType();
        if (algorithm == AlgorithmType.SDE_DPMSOLVER || algorithm == AlgorithmType.SDE_DPMSOLVER_PLUS_PLUS) {
            if (noise == null) throw new IllegalArgumentException("SDE DPM-Solver needs a noise source");
            stepNoise = noise.randn(converted.shape());
        }
        int order = config.solverOrder();
        Tensor prev;
        if (order == 1 || lowerOrderNums < 1 || lowerOrderFinal) {
            prev = firstOrderUpdate(converted, sample, stepNoise);
        } else if (order == 2 || lowerOrderNums < 2 || lowerOrderSecond) {
            prev = secondOrderUpdate(sample, stepNoise);
        } else {
            prev = thirdOrderUpdate(sample, stepNoise);
        }
        if (lowerOrderNums < order) lowerOrderNums++;
        stepIndex++;
        return new StepOutput(prev, null);
    }

    private Tensor firstOrderUpdate(Tensor m0, Tensor sample, Tensor noise) {
        float[] t = alphaSigma(sigmas[stepIndex + 1]);
        float[] s = alphaSigma(sigmas[stepIndex]);
        float alphaT = t[0], sigmaT = t[1], alphaS = s[0], sigmaS = s[1];
        float h = lambda(t) - lambda(s);
        return switch (config.algorithmType()) {
            case DPMSOLVER_PLUS_PLUS -> Ops.axpby(sigmaT / sigmaS, sample, -(alphaT * (exp(-h) - 1f)), m0);
            case DPMSOLVER -> Ops.axpby(alphaT / alphaS, sample, -(sigmaT * (exp(h) - 1f)), m0);
            case SDE_DPMSOLVER_PLUS_PLUS -> {
                Tensor x = Ops.axpby(sigmaT / sigmaS * exp(-h), sample, alphaT * (1f - exp(-2f * h)), m0);
                yield Ops.axpby(1f, x, sigmaT * (float) Math.sqrt(1f - exp(-2f * h)), noise);
            }
            case SDE_DPMSOLVER -> {
                Tensor x = Ops.axpby(alphaT / alphaS, sample, -(2f * (sigmaT * (exp(h) - 1f))), m0);
                yield Ops.axpby(1f, x, sigmaT * (float) Math.sqrt(exp(2f * h) - 1f), noise);
            }
        };
    }

    private Tensor secondOrderUpdate(Tensor sample, Tensor noise) {
        float[] t = alphaSigma(sigmas[stepIndex + 1]);
        float[] s0 = alphaSigma(sigmas[stepIndex]);
        float[] s1 = alphaSigma(sigmas[stepIndex - 1]);
        float alphaT = t[0], sigmaT = t[1];
        float lambdaT = lambda(t), lambdaS0 = lambda(s0), lambdaS1 = lambda(s1);
        Tensor m0 = modelOutputs[modelOutputs.length - 1], m1 = modelOutputs[modelOutputs.length - 2];
        float h = lambdaT - lambdaS0, h0 = lambdaS0 - lambdaS1;
        float r0 = h0 / h;
        Tensor d0 = m0;
        Tensor d1 = mul(Ops.sub(m0, m1), 1f / r0);
        boolean midpoint = config.solverType() == SolverType.MIDPOINT;
        return switch (config.algorithmType()) {
            case DPMSOLVER_PLUS_PLUS -> {
                float c = alphaT * (exp(-h) - 1f);
                Tensor x = Ops.axpby(sigmaT / s0[1], sample, -c, d0);
                yield midpoint ? Ops.axpby(1f, x, -(0.5f * c), d1)
                        : Ops.axpby(1f, x, alphaT * ((exp(-h) - 1f) / h + 1f), d1);
            }
            case DPMSOLVER -> {
                float c = sigmaT * (exp(h) - 1f);
                Tensor x = Ops.axpby(alphaT / s0[0], sample, -c, d0);
                yield midpoint ? Ops.axpby(1f, x, -(0.5f * c), d1)
                        : Ops.axpby(1f, x, -(sigmaT * ((exp(h) - 1f) / h - 1f)), d1);
            }
            case SDE_DPMSOLVER_PLUS_PLUS -> {
                float c = alphaT * (1f - exp(-2f * h));
                Tensor x = Ops.axpby(sigmaT / s0[1] * exp(-h), sample, c, d0);
                x = midpoint ? Ops.axpby(1f, x, 0.5f * c, d1)
                        : Ops.axpby(1f, x, alphaT * ((1f - exp(-2f * h)) / (-2f * h) + 1f), d1);
                yield Ops.axpby(1f, x, sigmaT * (float) Math.sqrt(1f - exp(-2f * h)), noise);
            }
            case SDE_DPMSOLVER -> {
                float c = sigmaT * (exp(h) - 1f);
                Tensor x = Ops.axpby(alphaT / s0[0], sample, -(2f * c), d0);
                x = midpoint ? Ops.axpby(1f, x, -c, d1)
                        : Ops.axpby(1f, x, -(2f * (sigmaT * ((exp(h) - 1f) / h - 1f))), d1);
                yield Ops.axpby(1f, x, sigmaT * (float) Math.sqrt(exp(2f * h) - 1f), noise);
            }
        };
    }

    private Tensor thirdOrderUpdate(Tensor sample, Tensor noise) {
        float[] t = alphaSigma(sigmas[stepIndex + 1]);
        float[] s0 = alphaSigma(sigmas[stepIndex]);
        float[] s1 = alphaSigma(sigmas[stepIndex - 1]);
        float[] s2 = alphaSigma(sigmas[stepIndex - 2]);
        float alphaT = t[0], sigmaT = t[1];
        float lambdaT = lambda(t), lambdaS0 = lambda(s0), lambdaS1 = lambda(s1), lambdaS2 = lambda(s2);
        int last = modelOutputs.length - 1;
        Tensor m0 = modelOutputs[last], m1 = modelOutputs[last - 1], m2 = modelOutputs[last - 2];
        float h = lambdaT - lambdaS0, h0 = lambdaS0 - lambdaS1, h1 = lambdaS1 - lambdaS2;
        float r0 = h0 / h, r1 = h1 / h;
        Tensor d0 = m0;
        Tensor d10 = mul(Ops.sub(m0, m1), 1f / r0);
        Tensor d11 = mul(Ops.sub(m1, m2), 1f / r1);
        Tensor d10MinusD11 = Ops.sub(d10, d11);
        Tensor d1 = Ops.axpby(1f, d10, r0 / (r0 + r1), d10MinusD11);
        Tensor d2 = mul(d10MinusD11, 1f / (r0 + r1));
        return switch (config.algorithmType()) {
            case DPMSOLVER_PLUS_PLUS -> {
                float em = exp(-h) - 1f;
                Tensor x = Ops.axpby(sigmaT / s0[1], sample, -(alphaT * em), d0);
                x = Ops.axpby(1f, x, alphaT * (em / h + 1f), d1);
                yield Ops.axpby(1f, x, -(alphaT * ((exp(-h) - 1f + h) / (h * h) - 0.5f)), d2);
            }
            case DPMSOLVER -> {
                float ep = exp(h) - 1f;
                Tensor x = Ops.axpby(alphaT / s0[0], sample, -(sigmaT * ep), d0);
                x = Ops.axpby(1f, x, -(sigmaT * (ep / h - 1f)), d1);
                yield Ops.axpby(1f, x, -(sigmaT * ((exp(h) - 1f - h) / (h * h) - 0.5f)), d2);
            }
            case SDE_DPMSOLVER_PLUS_PLUS -> {
                float e2 = exp(-2f * h);
                Tensor x = Ops.axpby(sigmaT / s0[1] * exp(-h), sample, alphaT * (1f - e2), d0);
                x = Ops.axpby(1f, x, alphaT * ((1f - e2) / (-2f * h) + 1f), d1);
                float twoH = 2f * h;
                x = Ops.axpby(1f, x, alphaT * ((1f - e2 - 2f * h) / (twoH * twoH) - 0.5f), d2);
                yield Ops.axpby(1f, x, sigmaT * (float) Math.sqrt(1f - e2), noise);
            }
            case SDE_DPMSOLVER -> throw new IllegalArgumentException(
                    "DPMSolverMultistepScheduler: sde-dpmsolver has no third-order update; use solver_order 2");
        };
    }

    @Override
    public Tensor addNoise(Tensor original, Tensor noise, double... timesteps) {
        int[] idx = noiseIndices(timesteps);
        float[] alpha = new float[idx.length], sigma = new float[idx.length];
        for (int i = 0; i < idx.length; i++) {
            float[] as = alphaSigma(sigmas[idx[i]]);
            alpha[i] = as[0];
            sigma[i] = as[1];
        }
        return TensorMath.combine(alpha, original, sigma, noise);
    }

    @Override
    public void close() {
        java.util.Arrays.fill(modelOutputs, null);
        history.close();
    }
}
