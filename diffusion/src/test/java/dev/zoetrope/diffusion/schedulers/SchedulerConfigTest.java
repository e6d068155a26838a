package dev.zoetrope.diffusion.schedulers;

import dev.zoetrope.diffusion.schedulers.SchedulerConfig.AlgorithmType;
import dev.zoetrope.diffusion.schedulers.SchedulerConfig.BetaSchedule;
import dev.zoetrope.diffusion.schedulers.SchedulerConfig.TimestepSpacing;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** scheduler_config.json resolution, including diffusers' from_config semantics when swapping schedulers. */
class SchedulerConfigTest {
    /** runwayml/stable-diffusion-v1-5 scheduler/scheduler_config.json (diffusers 0.6 era: no timestep_spacing). */
    static final String SD15 = """
            {
              "_class_name": "PNDMScheduler",
              "_diffusers_version": "0.6.0",
              "beta_end": 0.012,
              "beta_schedule": "scaled_linear",
              "beta_start": 0.00085,
              "num_train_timesteps": 1000,
              "set_alpha_to_one": false,
              "skip_prk_steps": true,
              "steps_offset": 1,
              "trained_betas": null,
              "clip_sample": false
            }""";

    @TempDir
    Path dir;

    private Path write(String name, String json) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, json);
        return file;
    }

    @Test
    void ownClassWithItsDefaults() throws IOException {
        SchedulerConfig c = SchedulerConfig.load(write("scheduler_config.json", SD15));
        assertEquals(SchedulerType.PNDM, c.type());
        assertTrue(c.skipPrkSteps());
        assertEquals(BetaSchedule.SCALED_LINEAR, c.betaSchedule());
        assertEquals(TimestepSpacing.LEADING, c.timestepSpacing()); // PNDM's default
        assertEquals(1, c.stepsOffset());
        assertNull(c.trainedBetas());
        assertInstanceOf(PNDMScheduler.class, Schedulers.create("default", c));
    }

    @Test
    void swappingKeepsTheFilesKeysAndTakesTheTargetsDefaults() throws IOException {
        SchedulerConfig sd = SchedulerConfig.load(write("scheduler_config.json", SD15));
        SchedulerConfig euler = sd.as(SchedulerType.EULER);
        assertEquals(0.00085, euler.betaStart());
        assertEquals(0.012, euler.betaEnd());
        assertEquals(1, euler.stepsOffset());
        assertEquals(TimestepSpacing.LINSPACE, euler.timestepSpacing()); // not in the file: Euler's default
        SchedulerConfig ddim = sd.as(SchedulerType.DDIM);
        assertFalse(ddim.clipSample()); // the file's false beats DDIM's default true
        assertFalse(ddim.setAlphaToOne());
        SchedulerConfig dpm = sd.as(SchedulerType.DPM_SOLVER_MULTISTEP);
        assertEquals(2, dpm.solverOrder());
        assertEquals(AlgorithmType.DPMSOLVER_PLUS_PLUS, dpm.algorithmType());
        assertTrue(dpm.lowerOrderFinal());
        assertEquals(Double.NEGATIVE_INFINITY, dpm.lambdaMinClipped());
        // back again: nothing was lost
        assertTrue(euler.as(SchedulerType.PNDM).skipPrkSteps());
    }

    @Test
    void stableDiffusionEulerStartsAtTheKnownSigmaMax() throws IOException {
        try (Scheduler euler = Schedulers.load(write("scheduler_config.json", SD15), "euler")) {
            euler.setTimesteps(50);
            assertEquals(14.6146, euler.initNoiseSigma(), 1e-4); // what diffusers prints for SD 1.5 + Euler
            double[] t = euler.timesteps();
            assertEquals(999.0, t[0]);
            assertEquals(0.0, t[49]);
        }
    }

    @Test
    void namedSchedulersPickTheirClassAndSettings() throws IOException {
        SchedulerConfig sd = SchedulerConfig.load(write("scheduler_config.json", SD15));
        assertInstanceOf(DDIMScheduler.class, Schedulers.create("ddim", sd));
        assertInstanceOf(PNDMScheduler.class, Schedulers.create("pndm", sd));
        assertInstanceOf(EulerDiscreteScheduler.class, Schedulers.create("euler", sd));
        assertInstanceOf(EulerAncestralDiscreteScheduler.class, Schedulers.create("euler-a", sd));
        assertInstanceOf(LMSDiscreteScheduler.class, Schedulers.create("lms", sd));
        Scheduler plain = Schedulers.create("dpmpp-2m", sd);
        Scheduler karras = Schedulers.create("DPMPP_2M_KARRAS", sd);
        assertFalse(plain.config().useKarrasSigmas());
        assertTrue(karras.config().useKarrasSigmas());
        assertEquals(2, karras.config().solverOrder());
        assertEquals(0.00085, karras.config().betaStart());
        karras.setTimesteps(20);
        double[] t = karras.timesteps();
        assertEquals(20, t.length);
        for (int i = 0; i < t.length; i++) {
            assertEquals(Math.rint(t[i]), t[i], "karras timesteps are rounded to integers");
            if (i > 0) assertTrue(t[i] <= t[i - 1], "descending");
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Schedulers.create("heun", sd));
        assertTrue(e.getMessage().contains("dpmpp-2m-karras"), e.getMessage());
    }

    @Test
    void pythonNonFiniteTokensAreRead() throws IOException {
        Path f = write("dpm.json", """
                {"_class_name": "DPMSolverMultistepScheduler", "lambda_min_clipped": -Infinity,
                 "algorithm_type": "deis", "solver_type": "bh2", "variance_type": "fixed_small", "note": "NaN -Infinity"}""");
        SchedulerConfig c = SchedulerConfig.load(f);
        assertEquals(Double.NEGATIVE_INFINITY, c.lambdaMinClipped());
        assertEquals(AlgorithmType.DPMSOLVER_PLUS_PLUS, c.algorithmType()); // diffusers registers deis as dpmsolver++
        assertEquals(SchedulerConfig.SolverType.MIDPOINT, c.solverType());
        assertNull(c.varianceType());
        assertEquals("NaN -Infinity", c.explicit().get("note")); // strings are left alone
    }

    @Test
    void badValuesNameTheFileAndTheKey() throws IOException {
        Path f = write("bad.json", "{\"_class_name\": \"DDIMScheduler\", \"beta_schedule\": \"sigmoid\"}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.load(f));
        assertTrue(e.getMessage().contains("bad.json") && e.getMessage().contains("beta_schedule")
                && e.getMessage().contains("scaled_linear"), e.getMessage());

        Path unknown = write("unipc.json", "{\"_class_name\": \"UniPCMultistepScheduler\", \"beta_start\": 0.00085}");
        e = assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.load(unknown));
        assertTrue(e.getMessage().contains("UniPCMultistepScheduler") && e.getMessage().contains("euler"), e.getMessage());
        // …but its betas still serve a named scheduler
        assertEquals(0.00085, Schedulers.load(unknown, "euler").config().betaStart());

        Path betas = write("betas.json", "{\"_class_name\": \"EulerDiscreteScheduler\", \"num_train_timesteps\": 3,"
                + " \"trained_betas\": [0.1, 0.2]}");
        e = assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.load(betas));
        assertTrue(e.getMessage().contains("trained_betas"), e.getMessage());

        Path broken = write("broken.json", "{\"_class_name\": \"DDIMScheduler\",");
        e = assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.load(broken));
        assertTrue(e.getMessage().contains("broken.json"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> Schedulers.configFile(dir.resolve("no-model")));
        assertTrue(e.getMessage().contains("scheduler_config.json"), e.getMessage());
    }

    @Test
    void trainedBetasAreUsedAsFloat32() {
        SchedulerConfig c = SchedulerConfig.of(java.util.Map.of("num_train_timesteps", 3L,
                "trained_betas", java.util.List.of(0.1, 0.2, 0.3)), SchedulerType.DDIM);
        float[] betas = NoiseSchedule.betas(c);
        assertEquals(0.1f, betas[0]);
        assertEquals(0.3f, betas[2]);
        float[] ac = new DDIMScheduler(c).alphasCumprod();
        assertEquals((float) ((double) (1f - 0.1f) * (double) (1f - 0.2f)), ac[1]); // cumprod in double over float32 alphas
    }
}
