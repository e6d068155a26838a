package dev.zoetrope.diffusion.schedulers;

import dev.zoetrope.core.Ops;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.diffusion.noise.NoiseSource;

import static dev.zoetrope.diffusion.schedulers.SigmaTables.orDefault;
import static dev.zoetrope.diffusion.schedulers.TensorMath.div;
import static dev.zoetrope.diffusion.schedulers.TensorMath.mul;

/**
 * Euler's method on the probability-flow ODE in σ (Karras et al. 2022, Algorithm 2), diffusers' {@code
 * EulerDiscreteScheduler}: linear or log-linear sigma interpolation, Karras or exponential sigmas, zero or
 * σ_min final sigma, and the optional "churn" (s_churn, s_tmin, s_tmax, s_noise) that adds noise to raise σ.
 */
public final class EulerDiscreteScheduler extends SigmaScheduler {
    private double sChurn = 0;
    private double sTmin = 0;
    private double sTmax = Double.POSITIVE_INFINITY;
    private double sNoise = 1;

    public EulerDiscreteScheduler(SchedulerConfig config) {
        super(config.as(SchedulerType.EULER), true);
    }

    /** Stochastic churn of Karras et al.'s Algorithm 2 (all defaults: none). Needs a noise source when s_churn &gt; 0. */
    public EulerDiscreteScheduler setChurn(double sChurn, double sTmin, double sTmax, double sNoise) {
        this.sChurn = sChurn;
        this.sTmin = sTmin;
        this.sTmax = sTmax;
        this.sNoise = sNoise;
        return this;
    }

    @Override
    public void setTimesteps(int n) {
        checkSteps(n);
        int trainSteps = config.numTrainTimesteps();
        double[] ts = SigmaTables.floatTimesteps(config.timestepSpacing(), trainSteps, n, config.stepsOffset());
        float[] trainSigmas = NoiseSchedule.sigmas(alphasCumprod);
        float[] logSigmas = SigmaTables.log(trainSigmas);
        double[] sig = switch (config.interpolationType()) {
            case LINEAR -> NumpyCompat.interpOverIndex(ts, trainSigmas);
            case LOG_LINEAR -> {
                // torch.linspace(log σ_max, log σ_min, n + 1).exp() in float32 (one entry more than the timesteps)
                float[] logs = NoiseSchedule.torchLinspace(logSigmas[trainSigmas.length - 1], logSigmas[0], n + 1);
                double[] s = new double[n + 1];
                for (int i = 0; i <= n; i++) s[i] = (float) Math.exp(logs[i]);
                yield s;
            }
        };
        if (config.useKarrasSigmas()) {
            sig = SigmaTables.karras(orDefault(config.sigmaMin(), sig[sig.length - 1]),
                    orDefault(config.sigmaMax(), sig[0]), n);
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
        float[] sigmas = withFinalSigma(sig);
        boolean continuousV = config.timestepType() == SchedulerConfig.TimestepType.CONTINUOUS
                && config.predictionType() == SchedulerConfig.PredictionType.V_PREDICTION;
        // continuous v-prediction models take 0.25·ln σ (float32) for every sigma but the last
        double[] timesteps = new double[continuousV ? sigmas.length - 1 : ts.length];
        for (int i = 0; i < timesteps.length; i++) {
            timesteps[i] = continuousV ? 0.25f * (float) Math.log(sigmas[i]) : (float) ts[i];
        }
        install(timesteps, sigmas, n);
    }

    @Override
    public StepOutput step(Tensor modelOutput, double timestep, Tensor sample, NoiseSource noise) {
        beginStep(timestep);
        float sigma = sigmas[stepIndex];
        double gamma = sTmin <= sigma && sigma <= sTmax ? Math.min(sChurn / (sigmas.length - 1), Math.sqrt(2) - 1) : 0.0;
        float sigmaHat = sigma * (float) (gamma + 1);
        if (gamma > 0) {
            if (noise == null) throw new IllegalArgumentException("Euler with s_churn > 0 needs a noise source");
            Tensor eps = mul(noise.randn(modelOutput.shape()), (float) sNoise);
            sample = Ops.axpby(1f, sample, (float) Math.sqrt(sigmaHat * sigmaHat - sigma * sigma), eps);
        }
        Tensor predOriginal = switch (config.predictionType()) {
            case SAMPLE -> modelOutput;
            case EPSILON -> Ops.axpby(1f, sample, -sigmaHat, modelOutput);
            case V_PREDICTION -> Ops.add(mul(modelOutput, -sigma / SigmaTables.inputScale(sigma)),
                    div(sample, sigma * sigma + 1f));
            default -> throw new IllegalArgumentException("EulerDiscreteScheduler: prediction_type "
                    + config.predictionType() + " must be epsilon, sample or v_prediction");
        };
        Tensor derivative = div(Ops.sub(sample, predOriginal), sigmaHat);
        float dt = sigmas[stepIndex + 1] - sigmaHat;
        Tensor prev = Ops.axpby(1f, sample, dt, derivative);
        stepIndex++;
        return new StepOutput(prev, predOriginal);
    }
}
