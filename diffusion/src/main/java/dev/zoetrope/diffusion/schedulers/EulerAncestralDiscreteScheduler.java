package dev.zoetrope.diffusion.schedulers;

import dev.zoetrope.core.Ops;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.diffusion.noise.NoiseSource;

import static dev.zoetrope.diffusion.schedulers.TensorMath.div;
import static dev.zoetrope.diffusion.schedulers.TensorMath.mul;

/**
 * Ancestral Euler sampling ("Euler a"), diffusers' {@code EulerAncestralDiscreteScheduler}: an Euler step down
 * to σ_down followed by fresh noise of level σ_up, with σ_up² = σ_to²(σ_from² − σ_to²)/σ_from² and σ_down² =
 * σ_to² − σ_up². Every step draws {@code randn(model_output.shape)} from the noise source.
 */
public final class EulerAncestralDiscreteScheduler extends SigmaScheduler {

    public EulerAncestralDiscreteScheduler(SchedulerConfig config) {
        super(config.as(SchedulerType.EULER_ANCESTRAL), true);
    }

    @Override
    public void setTimesteps(int n) {
        checkSteps(n);
        double[] ts = SigmaTables.floatTimesteps(config.timestepSpacing(), config.numTrainTimesteps(), n,
                config.stepsOffset());
        double[] sig = NumpyCompat.interpOverIndex(ts, NoiseSchedule.sigmas(alphasCumprod));
        float[] sigmas = new float[sig.length + 1];
        for (int i = 0; i < sig.length; i++) sigmas[i] = (float) sig[i];
        install(ts, sigmas, n);
    }

    @Override
    public StepOutput step(Tensor modelOutput, double timestep, Tensor sample, NoiseSource noise) {
        beginStep(timestep);
        if (noise == null) throw new IllegalArgumentException("Euler ancestral needs a noise source");
        float sigma = sigmas[stepIndex];
        Tensor predOriginal = switch (config.predictionType()) {
            case EPSILON -> Ops.axpby(1f, sample, -sigma, modelOutput);
            case V_PREDICTION -> Ops.add(mul(modelOutput, -sigma / SigmaTables.inputScale(sigma)),
                    div(sample, sigma * sigma + 1f));
            default -> throw new IllegalArgumentException("EulerAncestralDiscreteScheduler: prediction_type "
                    + config.predictionType() + " must be epsilon or v_prediction");
        };
        float sigmaFrom = sigma;
        float sigmaTo = sigmas[stepIndex + 1];
        float sigmaUp = (float) Math.sqrt(sigmaTo * sigmaTo * (sigmaFrom * sigmaFrom - sigmaTo * sigmaTo)
                / (sigmaFrom * sigmaFrom));
        float sigmaDown = (float) Math.sqrt(sigmaTo * sigmaTo - sigmaUp * sigmaUp);
        Tensor derivative = div(Ops.sub(sample, predOriginal), sigma);
        float dt = sigmaDown - sigma;
        Tensor prev = Ops.axpby(1f, sample, dt, derivative);
        prev = Ops.axpby(1f, prev, sigmaUp, noise.randn(modelOutput.shape()));
        stepIndex++;
        return new StepOutput(prev, predOriginal);
    }
}
