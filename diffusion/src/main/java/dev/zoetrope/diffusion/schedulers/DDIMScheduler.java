package dev.zoetrope.diffusion.schedulers;

import dev.zoetrope.core.Ops;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.diffusion.noise.NoiseSource;

import static dev.zoetrope.diffusion.schedulers.TensorMath.div;

/**
 * DDIM (Song et al. 2021), diffusers' {@code DDIMScheduler}: deterministic for eta = 0, epsilon / v / sample
 * prediction, clipping or dynamic thresholding of x̂₀, leading / trailing / linspace spacing, and betas
 * rescaled to zero terminal SNR.
 */
public final class DDIMScheduler extends AlphaProductScheduler {
    private double eta;
    private boolean useClippedModelOutput;

    public DDIMScheduler(SchedulerConfig config) {
        super(config.as(SchedulerType.DDIM), true);
    }

    /** η of DDIM: 0 (the pipelines' default) is deterministic, 1 is DDPM-like; η &gt; 0 draws noise every step. */
    public DDIMScheduler setEta(double eta) {
        if (!(eta >= 0)) throw new IllegalArgumentException("eta must be >= 0, got " + eta);
        this.eta = eta;
        return this;
    }

    public double eta() {
        return eta;
    }

    /** Re-derive ε from the clipped x̂₀ (diffusers' use_clipped_model_output). */
    public DDIMScheduler setUseClippedModelOutput(boolean use) {
        this.useClippedModelOutput = use;
        return this;
    }

    @Override
    public void setTimesteps(int n) {
        timesteps = reversed(spacedTimesteps(n));
        numInferenceSteps = n;
    }

    /** σ_t² of DDIM's eq. (16) for η = 1: (1 − ᾱ_prev)/(1 − ᾱ_t) · (1 − ᾱ_t/ᾱ_prev). */
    public float variance(int timestep, int prevTimestep) {
        float alphaProdT = alphaProd(timestep);
        float alphaProdTPrev = alphaProdPrev(prevTimestep);
        float betaProdT = 1f - alphaProdT;
        float betaProdTPrev = 1f - alphaProdTPrev;
        return (betaProdTPrev / betaProdT) * (1f - alphaProdT / alphaProdTPrev);
    }

    @Override
    public StepOutput step(Tensor modelOutput, double timestep, Tensor sample, NoiseSource noise) {
        requireTimesteps();
        int t = TensorMath.trainIndex(timestep, alphasCumprod.length);
        int prevT = t - config.numTrainTimesteps() / numInferenceSteps;
        float alphaProdT = alphasCumprod[t];
        float alphaProdTPrev = alphaProdPrev(prevT);
        float betaProdT = 1f - alphaProdT;
        float sqrtAlpha = (float) Math.sqrt(alphaProdT);
        float sqrtBeta = (float) Math.sqrt(betaProdT);

        Tensor predOriginal;
        Tensor predEpsilon;
        switch (config.predictionType()) {
            case EPSILON -> {
                predOriginal = div(Ops.axpby(1f, sample, -sqrtBeta, modelOutput), sqrtAlpha);
                predEpsilon = modelOutput;
            }
            case SAMPLE -> {
                predOriginal = modelOutput;
                predEpsilon = div(Ops.axpby(1f, sample, -sqrtAlpha, predOriginal), sqrtBeta);
            }
            case V_PREDICTION -> {
                predOriginal = Ops.axpby(sqrtAlpha, sample, -sqrtBeta, modelOutput);
                predEpsilon = Ops.axpby(sqrtAlpha, modelOutput, sqrtBeta, sample);
            }
            default -> throw new IllegalArgumentException("DDIMScheduler: prediction_type "
                    + config.predictionType() + " must be epsilon, sample or v_prediction");
        }
        if (config.thresholding()) {
            predOriginal = Thresholding.apply(predOriginal, config.dynamicThresholdingRatio(), config.sampleMaxValue());
        } else if (config.clipSample()) {
            float range = (float) config.clipSampleRange();
            predOriginal = Ops.clamp(predOriginal, -range, range);
        }

        float stdDevT = (float) eta * (float) Math.sqrt(variance(t, prevT));
        if (useClippedModelOutput) {
            predEpsilon = div(Ops.axpby(1f, sample, -sqrtAlpha, predOriginal), sqrtBeta);
        }
        float directionCoeff = (float) Math.sqrt(1f - alphaProdTPrev - stdDevT * stdDevT);
        Tensor prev = Ops.axpby((float) Math.sqrt(alphaProdTPrev), predOriginal, directionCoeff, predEpsilon);
        if (eta > 0) {
            if (noise == null) throw new IllegalArgumentException("DDIM with eta > 0 needs a noise source");
            prev = Ops.axpby(1f, prev, stdDevT, noise.randn(modelOutput.shape()));
        }
        return new StepOutput(prev, predOriginal);
    }
}
