package dev.zoetrope.diffusion.schedulers;

import dev.zoetrope.core.Ops;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.diffusion.noise.NoiseSource;

import java.util.ArrayList;
import java.util.List;

import static dev.zoetrope.diffusion.schedulers.TensorMath.div;
import static dev.zoetrope.diffusion.schedulers.TensorMath.mul;

/**
 * Pseudo numerical methods (PNDM, Liu et al. 2022), diffusers' {@code PNDMScheduler}: three Runge–Kutta (PRK)
 * warm-up steps of four evaluations each, then linear multistep (PLMS) with up to four past model outputs.
 * With {@code skip_prk_steps} (the Stable Diffusion hub default) PLMS starts at once, its first step taking a
 * second evaluation at the same timestep.
 */
public final class PNDMScheduler extends AlphaProductScheduler {
    private static final int PNDM_ORDER = 4;

    private final History history = new History();
    /** Past model outputs, oldest first (diffusers' ets), at most four. */
    private final List<Tensor> ets = new ArrayList<>();
    private double[] prkTimesteps = new double[0];
    private double[] plmsTimesteps = new double[0];
    /** PRK's running weighted sum of the four evaluations; null stands for diffusers' integer 0. */
    private Tensor curModelOutput;
    private Tensor curSample;
    private int counter;

    public PNDMScheduler(SchedulerConfig config) {
        super(config.as(SchedulerType.PNDM), false);
    }

    @Override
    public void setTimesteps(int n) {
        int trainSteps = config.numTrainTimesteps();
        double[] base = spacedTimesteps(n);   // ascending, as diffusers' _timesteps
        int len = base.length;
        if (config.skipPrkSteps()) {
            prkTimesteps = new double[0];
            // _timesteps[:-1] ++ _timesteps[-2:-1] ++ _timesteps[-1:], reversed: the second-to-last repeats
            double[] plms = new double[len + 1];
            if (len >= 2) {
                for (int i = 0; i < len - 1; i++) plms[i] = base[i];
                plms[len - 1] = base[len - 2];
                plms[len] = base[len - 1];
            } else {
                plms = base.clone();
            }
            plmsTimesteps = reversed(plms);
        } else {
            if (len < PNDM_ORDER) {
                throw new IllegalArgumentException("PNDM with PRK warm-up needs at least " + PNDM_ORDER
                        + " inference steps, got " + n + " (set skip_prk_steps for fewer)");
            }
            int half = trainSteps / n / 2;
            // last four timesteps, each followed by its midpoint: a, a+h, b, b+h, c, c+h, d, d+h
            double[] pairs = new double[2 * PNDM_ORDER];
            for (int i = 0; i < PNDM_ORDER; i++) {
                pairs[2 * i] = base[len - PNDM_ORDER + i];
                pairs[2 * i + 1] = base[len - PNDM_ORDER + i] + half;
            }
            // pairs[:-1].repeat(2)[1:-1], reversed
            double[] repeated = new double[2 * (pairs.length - 1)];
            for (int i = 0; i < pairs.length - 1; i++) repeated[2 * i] = repeated[2 * i + 1] = pairs[i];
            double[] prk = new double[repeated.length - 2];
            System.arraycopy(repeated, 1, prk, 0, prk.length);
            prkTimesteps = reversed(prk);
            double[] plms = new double[len - 3];
            System.arraycopy(base, 0, plms, 0, plms.length);
            plmsTimesteps = reversed(plms);
        }
        timesteps = new double[prkTimesteps.length + plmsTimesteps.length];
        System.arraycopy(prkTimesteps, 0, timesteps, 0, prkTimesteps.length);
        System.arraycopy(plmsTimesteps, 0, timesteps, prkTimesteps.length, plmsTimesteps.length);
        for (Tensor e : ets) history.release(e);
        ets.clear();
        history.release(curModelOutput);
        curModelOutput = null;
        counter = 0;
        numInferenceSteps = n;
    }

    /** The Runge–Kutta warm-up timesteps (empty with skip_prk_steps). */
    public double[] prkTimesteps() {
        return prkTimesteps.clone();
    }

    /** The linear multistep timesteps. */
    public double[] plmsTimesteps() {
        return plmsTimesteps.clone();
    }

    @Override
    public StepOutput step(Tensor modelOutput, double timestep, Tensor sample, NoiseSource noise) {
        if (counter < prkTimesteps.length && !config.skipPrkSteps()) return stepPrk(modelOutput, timestep, sample);
        return stepPlms(modelOutput, timestep, sample);
    }

    /** One of the four evaluations of a Runge–Kutta step (diffusers' step_prk). */
    public StepOutput stepPrk(Tensor modelOutput, double timestep, Tensor sample) {
        requireTimesteps();
        int t = TensorMath.trainIndex(timestep, alphasCumprod.length);
        int diffToPrev = counter % 2 != 0 ? 0 : config.numTrainTimesteps() / numInferenceSteps / 2;
        int prevTimestep = t - diffToPrev;
        if (counter / 4 * 4 >= prkTimesteps.length) {
            throw new IllegalStateException("no Runge-Kutta step " + counter + " in this schedule of "
                    + prkTimesteps.length + " PRK timesteps (skip_prk_steps = " + config.skipPrkSteps() + ")");
        }
        int prkTimestep = (int) prkTimesteps[counter / 4 * 4];
        Tensor output = modelOutput;
        switch (counter % 4) {
            case 0 -> {
                replaceCurModelOutput(mul(modelOutput, (float) (1.0 / 6)));
                ets.add(history.keep(modelOutput));
                history.release(curSample);
                curSample = history.keep(sample);
            }
            case 1, 2 -> replaceCurModelOutput(Ops.axpby(1f, currentModelOutputSum(), (float) (1.0 / 3), modelOutput));
            default -> {
                output = Ops.axpby(1f, currentModelOutputSum(), (float) (1.0 / 6), modelOutput);
                history.release(curModelOutput);
                curModelOutput = null;
            }
        }
        Tensor base = curSample != null ? curSample : sample;
        Tensor prev = prevSample(base, prkTimestep, prevTimestep, output);
        counter++;
        return new StepOutput(prev, null);
    }

    private Tensor currentModelOutputSum() {
        if (curModelOutput == null) throw new IllegalStateException("PRK step out of order: no running sum");
        return curModelOutput;
    }

    private void replaceCurModelOutput(Tensor value) {
        history.release(curModelOutput);
        curModelOutput = history.keep(value);
    }

    /** A linear multistep step (diffusers' step_plms). */
    public StepOutput stepPlms(Tensor modelOutput, double timestep, Tensor sample) {
        requireTimesteps();
        if (!config.skipPrkSteps() && ets.size() < 3) {
            throw new IllegalStateException("PNDMScheduler can only run PLMS steps after at least 12 PRK steps"
                    + " (or with skip_prk_steps)");
        }
        int stepGap = config.numTrainTimesteps() / numInferenceSteps;
        int t = TensorMath.trainIndex(timestep, alphasCumprod.length);
        int prevTimestep = t - stepGap;
        if (counter != 1) {
            while (ets.size() > 3) history.release(ets.removeFirst());
            ets.add(history.keep(modelOutput));
        } else {
            prevTimestep = t;
            t = t + stepGap;
        }
        int n = ets.size();
        Tensor output;
        Tensor base = sample;
        Tensor usedSample = null;
        if (n == 1 && counter == 0) {
            output = modelOutput;
            history.release(curSample);
            curSample = history.keep(sample);
        } else if (n == 1 && counter == 1) {
            output = div(Ops.add(modelOutput, ets.get(0)), 2f);
            base = curSample;
            usedSample = curSample;
            curSample = null;
        } else if (n == 2) {
            output = div(Ops.axpby(3f, ets.get(1), -1f, ets.get(0)), 2f);
        } else if (n == 3) {
            Tensor acc = Ops.axpby(23f, ets.get(2), -16f, ets.get(1));
            output = div(Ops.axpby(1f, acc, 5f, ets.get(0)), 12f);
        } else {
            Tensor acc = Ops.axpby(55f, ets.get(3), -59f, ets.get(2));
            acc = Ops.axpby(1f, acc, 37f, ets.get(1));
            acc = Ops.axpby(1f, acc, -9f, ets.get(0));
            output = mul(acc, (float) (1.0 / 24));
        }
        if (base == null) throw new IllegalStateException("PLMS step out of order: no stored sample");
        Tensor prev = prevSample(base, t, prevTimestep, output);
        history.release(usedSample);
        counter++;
        return new StepOutput(prev, null);
    }

    /** x_{t−δ} from x_t and ε (PNDM's eq. (9)), in diffusers' float32 order of operations. */
    private Tensor prevSample(Tensor sample, int timestep, int prevTimestep, Tensor modelOutput) {
        float alphaProdT = alphaProd(timestep);
        float alphaProdTPrev = alphaProdPrev(prevTimestep);
        float betaProdT = 1f - alphaProdT;
        float betaProdTPrev = 1f - alphaProdTPrev;
        switch (config.predictionType()) {
            case V_PREDICTION -> modelOutput = Ops.axpby((float) Math.sqrt(alphaProdT), modelOutput,
                    (float) Math.sqrt(betaProdT), sample);
            case EPSILON -> {
            }
            default -> throw new IllegalArgumentException("PNDMScheduler: prediction_type "
                    + config.predictionType() + " must be epsilon or v_prediction");
        }
        float sampleCoeff = (float) Math.sqrt(alphaProdTPrev / alphaProdT);
        float denominator = alphaProdT * (float) Math.sqrt(betaProdTPrev)
                + (float) Math.sqrt(alphaProdT * betaProdT * alphaProdTPrev);
        Tensor scaledOutput = div(mul(modelOutput, alphaProdTPrev - alphaProdT), denominator);
        return Ops.axpby(sampleCoeff, sample, -1f, scaledOutput);
    }

    @Override
    public void close() {
        ets.clear();
        curModelOutput = null;
        curSample = null;
        history.close();
    }
}
