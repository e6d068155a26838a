package dev.zoetrope.diffusion.schedulers;

import dev.zoetrope.core.Json;
import dev.zoetrope.core.SafeTensors;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.testing.Compare;
import dev.zoetrope.core.testing.Fixtures;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Parity with the scheduler cases of the shared fixtures (kind "scheduler" in sd/ and video/: DDIM with the SD
 * 1.5, I2VGen-XL and Latte configs, computed by diffusers v0.40 on torch 2.11): the float32 tables bit for bit,
 * timesteps exactly, step outputs and add_noise within the case's suggested tolerance. The config is read
 * from the model folder's scheduler_config.json and cross-checked with the one diffusers reported.
 */
class SchedulerFixtureParityTest {
    private static final Pattern TIMESTEPS = Pattern.compile("timesteps_(\\d+)");
    private static final Pattern STEP = Pattern.compile("step(\\d+)_model_output");

    @TestFactory
    Stream<DynamicTest> schedulerCases() {
        List<Fixtures.Case> cases = new ArrayList<>();
        cases.addAll(Fixtures.cases("sd", "scheduler"));
        cases.addAll(Fixtures.cases("video", "scheduler"));
        return cases.stream().map(c -> DynamicTest.dynamicTest(c.folder().getFileName() + "/" + c.name(), () -> check(c)));
    }

    private static void check(Fixtures.Case c) {
        Json.Obj manifest = c.manifest();
        Json.Obj tol = manifest.obj("suggested_tolerance");
        double atol = tol.doubleValue("atol", 0), rtol = tol.doubleValue("rtol", 0);
        SchedulerConfig config = SchedulerConfig.load(Schedulers.configFile(c.modelDir()));
        assertReportedConfig(config, manifest.obj("scheduler_config"));
        int checkedTimesteps = 0, checkedSteps = 0;
        try (Scope scope = Scope.open(); SafeTensors t = SafeTensors.open(c.tensors());
             Scheduler scheduler = Schedulers.create(config)) {
            DDIMScheduler ddim = (DDIMScheduler) scheduler;
            if (config.rescaleBetasZeroSnr()) {
                // torch's vectorised float sqrt on x86 (MKL VML) is not correctly rounded: a handful of √ᾱ lying
                // within ~0.015 ulp of a rounding tie come out 1 ulp lower there, which moves a few betas
                Compare.assertClose("betas", betasOf(config), t.get("betas").toFloatArray(), atol, rtol);
                Compare.assertClose("alphas_cumprod", ddim.alphasCumprod(), t.get("alphas_cumprod").toFloatArray(), atol, rtol);
            } else {
                assertArrayEquals(t.get("betas").toFloatArray(), betasOf(config), 0f, "betas");
                assertArrayEquals(t.get("alphas_cumprod").toFloatArray(), ddim.alphasCumprod(), 0f, "alphas_cumprod");
            }
            assertEquals(t.get("final_alpha_cumprod").toFloatArray()[0], ddim.finalAlphaCumprod(), 0f, "final_alpha_cumprod");

            for (String name : t.names()) {
                Matcher m = TIMESTEPS.matcher(name);
                if (!m.matches()) continue;
                scheduler.setTimesteps(Integer.parseInt(m.group(1)));
                assertArrayEquals(toDoubles(t.get(name).toLongArray()), scheduler.timesteps(), 0.0, name);
                checkedTimesteps++;
            }

            int stepCount = manifest.intValue("step_num_inference_steps", -1);
            for (String name : t.names()) {
                Matcher m = STEP.matcher(name);
                if (!m.matches()) continue;
                String k = "step" + m.group(1) + "_";
                scheduler.setTimesteps(stepCount);
                double timestep = t.get(k + "timestep").toLongArray()[0];
                StepOutput out = scheduler.step(t.get(k + "model_output"), timestep, t.get(k + "sample"));
                Compare.assertClose(c.name() + " " + k + "prev_sample", out.prevSample(), t.get(k + "prev_sample"), atol, rtol);
                Compare.assertClose(c.name() + " " + k + "pred_original_sample", out.predOriginalSample(),
                        t.get(k + "pred_original_sample"), atol, rtol);
                checkedSteps++;
            }

            Tensor noisy = scheduler.addNoise(t.get("add_noise_original"), t.get("add_noise_noise"),
                    toDoubles(t.get("add_noise_timesteps").toLongArray()));
            Compare.assertClose(c.name() + " add_noise", noisy, t.get("add_noise_out"), atol, rtol);
        }
        assertTrue(checkedTimesteps > 0 && checkedSteps > 0, c.name() + ": no timesteps/step tensors found");
    }

    private static float[] betasOf(SchedulerConfig config) {
        float[] betas = NoiseSchedule.betas(config);
        return config.rescaleBetasZeroSnr() ? NoiseSchedule.rescaleZeroTerminalSnr(betas) : betas;
    }

    private static double[] toDoubles(long[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) d[i] = v[i];
        return d;
    }

    /** Every key diffusers reported must resolve to the same value here (defaults included). */
    private static void assertReportedConfig(SchedulerConfig config, Json.Obj reported) {
        for (Map.Entry<String, Object> e : reported.map().entrySet()) {
            String key = e.getKey();
            if (key.startsWith("_")) continue;
            Object expected = e.getValue() == Json.NULL ? null : e.getValue();
            Object actual = switch (key) {
                case "num_train_timesteps" -> (long) config.numTrainTimesteps();
                case "beta_start" -> config.betaStart();
                case "beta_end" -> config.betaEnd();
                case "beta_schedule" -> config.betaSchedule().name().toLowerCase();
                case "trained_betas" -> config.trainedBetas();
                case "clip_sample" -> config.clipSample();
                case "set_alpha_to_one" -> config.setAlphaToOne();
                case "steps_offset" -> (long) config.stepsOffset();
                case "prediction_type" -> config.predictionType().name().toLowerCase();
                case "thresholding" -> config.thresholding();
                case "dynamic_thresholding_ratio" -> config.dynamicThresholdingRatio();
                case "clip_sample_range" -> config.clipSampleRange();
                case "sample_max_value" -> config.sampleMaxValue();
                case "timestep_spacing" -> config.timestepSpacing().name().toLowerCase();
                case "rescale_betas_zero_snr" -> config.rescaleBetasZeroSnr();
                default -> throw new AssertionError("reported config key " + key + " is not covered by this test");
            };
            assertEquals(expected, actual, "config " + key);
        }
    }
}
