package dev.zoetrope.diffusion.schedulers;

import dev.zoetrope.core.Ops;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.diffusion.noise.NoiseSource;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static dev.zoetrope.diffusion.schedulers.DiffusersDummies.meanAbs;
import static dev.zoetrope.diffusion.schedulers.DiffusersDummies.model;
import static dev.zoetrope.diffusion.schedulers.DiffusersDummies.noiseDeter;
import static dev.zoetrope.diffusion.schedulers.DiffusersDummies.sampleDeter;
import static dev.zoetrope.diffusion.schedulers.DiffusersDummies.sumAbs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The full-loop numbers of diffusers' own scheduler tests (tests/schedulers/test_scheduler_*.py at v0.40.0),
 * reproduced with the same dummy model and deterministic samples and the same tolerances (sum |x| within
 * 1e-2, mean |x| within 1e-3). Every step runs in its own scope, closed afterwards, as a pipeline does.
 */
class DiffusersSchedulerLoopsTest {

    private static Map<String, Object> cfg(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    private static void assertSumMean(Tensor x, double sum, double mean) {
        assertEquals(sum, sumAbs(x), 1e-2, "sum |x|");
        assertEquals(mean, meanAbs(x), 1e-3, "mean |x|");
    }

    /** The loop of test_scheduler_ddim / _pndm / _dpm_multi: residual = model(sample, t); sample = step(...). */
    private static Tensor plainLoop(Scheduler scheduler, Tensor sample, double[] timesteps) {
        Tensor x = sample;
        for (double t : timesteps) {
            try (Scope step = Scope.open()) {
                x = step.keep(scheduler.step(model(x, t), t, x).prevSample());
            }
        }
        return x;
    }

    /**
     * The loop of test_scheduler_euler / _lms: the scaled input replaces the sample and is also what step sees.
     */
    private static Tensor kLoop(Scheduler scheduler, Tensor sample, double[] timesteps, NoiseSource noise) {
        Tensor x = sample;
        for (double t : timesteps) {
            try (Scope step = Scope.open()) {
                Tensor scaled = scheduler.scaleModelInput(x, t);
                x = step.keep(scheduler.step(model(scaled, t), t, scaled, noise).prevSample());
            }
        }
        return x;
    }

    // ---------------------------------------------------------------- DDIM

    private static Map<String, Object> ddimConfig(Object... extra) {
        Map<String, Object> m = cfg("num_train_timesteps", 1000L, "beta_start", 0.0001, "beta_end", 0.02,
                "beta_schedule", "linear", "clip_sample", true);
        m.putAll(cfg(extra));
        return m;
    }

    private static Tensor ddimFullLoop(Object... extra) {
        try (Scheduler s = new DDIMScheduler(SchedulerConfig.of(ddimConfig(extra), SchedulerType.DDIM))) {
            s.setTimesteps(10);
            return plainLoop(s, sampleDeter(), s.timesteps());
        }
    }

    @Test
    void ddimFullLoops() {
        try (Scope scope = Scope.open()) {
            assertSumMean(ddimFullLoop(), 172.0067, 0.223967);
            assertSumMean(ddimFullLoop("prediction_type", "v_prediction"), 52.5302, 0.0684);
            assertSumMean(ddimFullLoop("set_alpha_to_one", true, "beta_start", 0.01), 149.8295, 0.1951);
            assertSumMean(ddimFullLoop("set_alpha_to_one", false, "beta_start", 0.01), 149.0784, 0.1941);
        }
    }

    @Test
    void ddimFullLoopWithNoise() {
        try (Scope scope = Scope.open();
             Scheduler s = new DDIMScheduler(SchedulerConfig.of(ddimConfig(), SchedulerType.DDIM))) {
            s.setTimesteps(10);
            double[] all = s.timesteps();
            double[] ts = java.util.Arrays.copyOfRange(all, 8, all.length);
            Tensor sample = s.addNoise(sampleDeter(), noiseDeter(), ts[0]);
            assertSumMean(plainLoop(s, sample, ts), 354.5418, 0.4616);
        }
    }

    @Test
    void ddimVarianceAndStepsOffset() {
        DDIMScheduler s = new DDIMScheduler(SchedulerConfig.of(ddimConfig(), SchedulerType.DDIM));
        assertEquals(0.0, s.variance(0, 0), 1e-5);
        assertEquals(0.14771, s.variance(420, 400), 1e-5);
        assertEquals(0.32460, s.variance(980, 960), 1e-5);
        assertEquals(0.00979, s.variance(487, 486), 1e-5);
        assertEquals(0.02, s.variance(999, 998), 1e-5);
        DDIMScheduler offset = new DDIMScheduler(SchedulerConfig.of(ddimConfig("steps_offset", 1L), SchedulerType.DDIM));
        offset.setTimesteps(5);
        assertArrayEquals(new double[] {801, 601, 401, 201, 1}, offset.timesteps());
    }

    // ---------------------------------------------------------------- PNDM

    private static Tensor pndmFullLoop(Object... extra) {
        Map<String, Object> m = cfg("num_train_timesteps", 1000L, "beta_start", 0.0001, "beta_end", 0.02,
                "beta_schedule", "linear");
        m.putAll(cfg(extra));
        try (PNDMScheduler s = new PNDMScheduler(SchedulerConfig.of(m, SchedulerType.PNDM))) {
            s.setTimesteps(10);
            Tensor x = sampleDeter();
            for (double t : s.prkTimesteps()) {
                try (Scope step = Scope.open()) {
                    x = step.keep(s.stepPrk(model(x, t), t, x).prevSample());
                }
            }
            for (double t : s.plmsTimesteps()) {
                try (Scope step = Scope.open()) {
                    x = step.keep(s.stepPlms(model(x, t), t, x).prevSample());
                }
            }
            return x;
        }
    }

    @Test
    void pndmFullLoops() {
        try (Scope scope = Scope.open()) {
            assertSumMean(pndmFullLoop(), 198.1318, 0.2580);
            assertSumMean(pndmFullLoop("prediction_type", "v_prediction"), 67.3986, 0.0878);
            assertSumMean(pndmFullLoop("set_alpha_to_one", true, "beta_start", 0.01), 230.0399, 0.2995);
            assertSumMean(pndmFullLoop("set_alpha_to_one", false, "beta_start", 0.01), 186.9482, 0.2434);
        }
    }

    @Test
    void pndmStepsOffsetTimesteps() {
        PNDMScheduler s = new PNDMScheduler(SchedulerConfig.of(cfg("steps_offset", 1L), SchedulerType.PNDM));
        s.setTimesteps(10);
        assertArrayEquals(new double[] {901, 851, 851, 801, 801, 751, 751, 701, 701, 651, 651, 601, 601, 501, 401,
                301, 201, 101, 1}, s.timesteps());
    }

    // ---------------------------------------------------------------- Euler

    private static Map<String, Object> kConfig(Object... extra) {
        Map<String, Object> m = cfg("num_train_timesteps", 1100L, "beta_start", 0.0001, "beta_end", 0.02,
                "beta_schedule", "linear");
        m.putAll(cfg(extra));
        return m;
    }

    private static Tensor kFullLoop(Scheduler s, int steps) {
        return kFullLoop(s, steps, null);
    }

    private static Tensor kFullLoop(Scheduler s, int steps, NoiseSource noise) {
        s.setTimesteps(steps);
        Tensor sample = Ops.scale(sampleDeter(), s.initNoiseSigma());
        return kLoop(s, sample, s.timesteps(), noise);
    }

    private static Tensor kFullLoopWithNoise(Scheduler s, int steps) {
        return kFullLoopWithNoise(s, steps, null);
    }

    private static Tensor kFullLoopWithNoise(Scheduler s, int steps, NoiseSource noise) {
        s.setTimesteps(steps);
        Tensor sample = Ops.scale(sampleDeter(), s.initNoiseSigma());
        double[] all = s.timesteps();
        int tStart = steps - 2;
        double[] ts = java.util.Arrays.copyOfRange(all, tStart * s.order(), all.length);
        sample = s.addNoise(sample, noiseDeter(), ts[0]);
        return kLoop(s, sample, ts, noise);
    }

    @Test
    void eulerFullLoops() {
        try (Scope scope = Scope.open()) {
            assertSumMean(kFullLoop(new EulerDiscreteScheduler(SchedulerConfig.of(kConfig(), SchedulerType.EULER)), 10),
                    10.0807, 0.0131);
            assertSumMean(kFullLoop(new EulerDiscreteScheduler(SchedulerConfig.of(
                    kConfig("prediction_type", "v_prediction"), SchedulerType.EULER)), 10), 0.0002, 2.2676e-06);
            assertSumMean(kFullLoop(new EulerDiscreteScheduler(SchedulerConfig.of(
                    kConfig("use_karras_sigmas", true), SchedulerType.EULER)), 10), 124.52299499511719, 0.16213932633399963);
            assertSumMean(kFullLoopWithNoise(new EulerDiscreteScheduler(SchedulerConfig.of(kConfig(), SchedulerType.EULER)), 10),
                    57062.9297, 74.3007);
        }
    }

    // ---------------------------------------------------------------- Euler ancestral (generator = torch.manual_seed(0),
    // here the torch-compatible TorchGenerator seeded with 0: one randn((4, 3, 8, 8)) per step)

    @Test
    void eulerAncestralFullLoops() {
        try (Scope scope = Scope.open()) {
            assertSumMean(kFullLoop(new EulerAncestralDiscreteScheduler(SchedulerConfig.of(kConfig(),
                    SchedulerType.EULER_ANCESTRAL)), 10, NoiseSource.seeded(0)), 152.3192, 0.1983);
            assertSumMean(kFullLoop(new EulerAncestralDiscreteScheduler(SchedulerConfig.of(
                    kConfig("prediction_type", "v_prediction"), SchedulerType.EULER_ANCESTRAL)), 10,
                    NoiseSource.seeded(0)), 108.4439, 0.1412);
            assertSumMean(kFullLoopWithNoise(new EulerAncestralDiscreteScheduler(SchedulerConfig.of(kConfig(),
                    SchedulerType.EULER_ANCESTRAL)), 10, NoiseSource.seeded(0)), 56163.0508, 73.1290);
        }
    }

    // ---------------------------------------------------------------- LMS

    @Test
    void lmsFullLoops() {
        try (Scope scope = Scope.open()) {
            try (Scheduler s = new LMSDiscreteScheduler(SchedulerConfig.of(kConfig(), SchedulerType.LMS))) {
                assertSumMean(kFullLoop(s, 10), 1006.388, 1.31);
            }
            try (Scheduler s = new LMSDiscreteScheduler(SchedulerConfig.of(kConfig("prediction_type", "v_prediction"),
                    SchedulerType.LMS))) {
                assertSumMean(kFullLoop(s, 10), 0.0017, 2.2676e-06);
            }
            try (Scheduler s = new LMSDiscreteScheduler(SchedulerConfig.of(kConfig("use_karras_sigmas", true),
                    SchedulerType.LMS))) {
                Tensor x = kFullLoop(s, 10);
                assertEquals(3812.9927, sumAbs(x), 2e-2, "sum |x|"); // diffusers' tolerance for this case
                assertEquals(4.9648, meanAbs(x), 1e-3, "mean |x|");
            }
            try (Scheduler s = new LMSDiscreteScheduler(SchedulerConfig.of(kConfig(), SchedulerType.LMS))) {
                assertSumMean(kFullLoopWithNoise(s, 10), 27663.6895, 36.0204);
            }
        }
    }

    // ---------------------------------------------------------------- DPM-Solver multistep

    private static Map<String, Object> dpmConfig(Object... extra) {
        Map<String, Object> m = cfg("num_train_timesteps", 1000L, "beta_start", 0.0001, "beta_end", 0.02,
                "beta_schedule", "linear", "solver_order", 2L, "prediction_type", "epsilon", "thresholding", false,
                "sample_max_value", 1.0, "algorithm_type", "dpmsolver++", "solver_type", "midpoint",
                "lower_order_final", false, "euler_at_final", false, "lambda_min_clipped", "-Infinity",
                "variance_type", null, "final_sigmas_type", "sigma_min");
        m.putAll(cfg(extra));
        return m;
    }

    private static Tensor dpmFullLoop(Object... extra) {
        try (Scheduler s = new DPMSolverMultistepScheduler(SchedulerConfig.of(dpmConfig(extra),
                SchedulerType.DPM_SOLVER_MULTISTEP))) {
            s.setTimesteps(10);
            return plainLoop(s, sampleDeter(), s.timesteps());
        }
    }

    @Test
    void dpmSolverFullLoops() {
        try (Scope scope = Scope.open()) {
            assertEquals(0.3301, meanAbs(dpmFullLoop()), 1e-3);
            assertEquals(1.1364, meanAbs(dpmFullLoop("thresholding", true, "dynamic_thresholding_ratio", 0.87,
                    "sample_max_value", 0.5)), 1e-3);
            assertEquals(0.2251, meanAbs(dpmFullLoop("prediction_type", "v_prediction")), 1e-3);
            assertEquals(0.2096, meanAbs(dpmFullLoop("prediction_type", "v_prediction", "use_karras_sigmas", true)), 1e-3);
            assertEquals(0.1554, meanAbs(dpmFullLoop("prediction_type", "v_prediction", "use_lu_lambdas", true)), 1e-3);
        }
    }

    @Test
    void dpmSolverFullLoopWithNoise() {
        try (Scope scope = Scope.open();
             Scheduler s = new DPMSolverMultistepScheduler(SchedulerConfig.of(dpmConfig(),
                     SchedulerType.DPM_SOLVER_MULTISTEP))) {
            s.setTimesteps(10);
            double[] all = s.timesteps();
            double[] ts = java.util.Arrays.copyOfRange(all, 5, all.length);
            Tensor sample = s.addNoise(sampleDeter(), noiseDeter(), ts[0]);
            assertSumMean(plainLoop(s, sample, ts), 318.4111, 0.4146);
        }
    }
}
