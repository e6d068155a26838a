package dev.zoetrope.diffusion.schedulers;

import dev.zoetrope.core.Ops;
import dev.zoetrope.core.Scope;
import dev.zoetrope.core.Tensor;
import dev.zoetrope.core.testing.Compare;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pieces behind the schedulers (quadrature, quantile, strength schedule) and their guard rails. */
class SchedulerBehaviourTest {

    @Test
    void lmsCoefficientsMatchScipyQuadBitForBit() {
        // scipy.integrate.quad(lms_derivative, σ_t, σ_{t+1}, epsrel=1e-4) with diffusers' float32 integrand, for
        // LMSDiscreteScheduler(num_train_timesteps=1100).set_timesteps(10) (scipy 1.17.1, numpy 2.4.6)
        LMSDiscreteScheduler s = new LMSDiscreteScheduler(SchedulerConfig.of(Map.of("num_train_timesteps", 1100L),
                SchedulerType.LMS));
        s.setTimesteps(10);
        assertEquals(Double.longBitsToDouble(-4582847151817621504L), s.lmsCoefficient(1, 0, 0));
        long[] t3 = {-4602660875614967821L, 4610881539633851545L, -4628102752349386751L, 4569300112264301003L};
        long[] t9 = {-4646326470871752557L, 4554433112717516257L, -4675798510743636091L, 4533766988059181354L};
        for (int k = 0; k < 4; k++) {
            assertEquals(Double.longBitsToDouble(t3[k]), s.lmsCoefficient(4, 3, k), "t=3 k=" + k);
            assertEquals(Double.longBitsToDouble(t9[k]), s.lmsCoefficient(4, 9, k), "t=9 k=" + k);
        }
    }

    @Test
    void gaussKronrodIntegratesPolynomialsExactlyAndBisectsTheRest() {
        // ∫_{-1}^{2} x³ − 2x + 1 dx = 3.75
        assertEquals(3.75, GaussKronrod.integrate(x -> x * x * x - 2 * x + 1, -1, 2, 1.49e-8, 1e-12), 1e-14);
        // ∫_0^{40} sin²x dx = 20 − sin(80)/4: one 21-point panel is not enough, bisection must kick in
        double expected = 20 - Math.sin(80) / 4;
        assertTrue(Math.abs(GaussKronrod.qk21(x -> Math.sin(x) * Math.sin(x), 0, 40)[0] - expected) > 1e-6);
        assertEquals(expected, GaussKronrod.integrate(x -> Math.sin(x) * Math.sin(x), 0, 40, 1e-12, 1e-12), 1e-9);
    }

    @Test
    void quantileAndThresholdingFollowTorch() {
        // numpy.quantile([0, 1, 2, 3, 4], 0.87) = 3.48 (linear interpolation)
        assertEquals(3.48f, Thresholding.quantileOfSorted(new float[] {0, 1, 2, 3, 4}, 0.87f), 1e-6f);
        try (Scope scope = Scope.open()) {
            // batch 0: |x| quantile 0.5 of {0.5, 3, 4, 6} = 3.5 → s = min(max(3.5, 1), 5) = 3.5
            // batch 1: quantile 0.5 of {0.1, 0.2, 0.3, 0.4} = 0.25 → s = 1 (plain clipping)
            Tensor x = Tensor.of(new float[] {0.5f, -3, 4, 6, 0.1f, -0.2f, 0.3f, 0.4f}, 2, 1, 4);
            float[] y = Thresholding.apply(x, 0.5, 5.0).toFloatArray();
            assertArrayEquals(new float[] {0.5f / 3.5f, -3 / 3.5f, 1, 1, 0.1f, -0.2f, 0.3f, 0.4f}, y, 1e-7f);
        }
    }

    @Test
    void strengthScheduleAndBeginIndexAsInTheImg2ImgPipeline() {
        try (Scope scope = Scope.open()) {
            EulerDiscreteScheduler euler = new EulerDiscreteScheduler(SchedulerConfig.defaults(SchedulerType.EULER));
            euler.setTimesteps(10);
            double[] all = euler.timesteps();
            double[] run = euler.timestepsForStrength(0.6); // init = 6, t_start = 4
            assertArrayEquals(Arrays.copyOfRange(all, 4, 10), run);
            float sigma = euler.sigmas()[4];
            Tensor zeros = Tensor.zeros(dev.zoetrope.core.DType.F32, 1, 2, 2, 2);
            Tensor ones = Tensor.full(1f, 1, 2, 2, 2);
            assertArrayEquals(filled(8, sigma), euler.addNoise(zeros, ones, run[0]).toFloatArray());
            float scale = (float) (1 / Math.sqrt(sigma * sigma + 1f));
            assertArrayEquals(filled(8, scale), euler.scaleModelInput(ones, run[0]).toFloatArray(), 1e-7f);
            assertEquals(4, euler.stepIndex());

            DDIMScheduler ddim = new DDIMScheduler(SchedulerConfig.defaults(SchedulerType.DDIM));
            ddim.setTimesteps(5);
            assertArrayEquals(ddim.timesteps(), ddim.timestepsForStrength(1.0));
            assertEquals(0, ddim.timestepsForStrength(0.0).length);
            assertThrows(IllegalArgumentException.class, () -> ddim.timestepsForStrength(1.5));
        }
    }

    @Test
    void ddimEtaAddsScaledNoise() {
        try (Scope scope = Scope.open()) {
            DDIMScheduler ddim = new DDIMScheduler(SchedulerConfig.defaults(SchedulerType.DDIM)).setEta(0.5);
            ddim.setTimesteps(10);
            double t = ddim.timesteps()[3];
            Tensor sample = DiffusersDummies.sampleDeter();
            Tensor eps = DiffusersDummies.noiseDeter();
            Tensor z = DiffusersDummies.noiseDeter();
            Tensor withNoise = ddim.step(eps, t, sample, (dtype, shape) -> z).prevSample();
            Tensor without = ddim.step(eps, t, sample, (dtype, shape) -> Tensor.zeros(dtype, shape)).prevSample();
            float std = (float) (0.5 * Math.sqrt(ddim.variance((int) t, (int) t - 100)));
            assertTrue(std > 0.01f);
            Compare.assertClose("eta noise", Ops.sub(withNoise, without), Ops.scale(z, std), 1e-6, 1e-5);
            assertThrows(IllegalArgumentException.class, () -> ddim.step(eps, t, sample));
        }
    }

    @Test
    void misuseFailsClearly() {
        try (Scope scope = Scope.open()) {
            Tensor x = DiffusersDummies.sampleDeter();
            EulerDiscreteScheduler euler = new EulerDiscreteScheduler(SchedulerConfig.defaults(SchedulerType.EULER));
            IllegalStateException notSet = assertThrows(IllegalStateException.class, () -> euler.step(x, 999, x));
            assertTrue(notSet.getMessage().contains("setTimesteps"), notSet.getMessage());
            euler.setTimesteps(4);
            IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> euler.step(x, 500.5, x));
            assertTrue(missing.getMessage().contains("500.5"), missing.getMessage());
            for (double t : euler.timesteps()) euler.step(x, t, x);
            assertThrows(IllegalStateException.class, () -> euler.step(x, 0, x));

            DDIMScheduler ddim = new DDIMScheduler(SchedulerConfig.defaults(SchedulerType.DDIM));
            ddim.setTimesteps(4);
            assertThrows(IllegalArgumentException.class, () -> ddim.step(x, 250.5, x));
            assertThrows(IllegalArgumentException.class, () -> ddim.addNoise(x, x, 1, 2, 3));
            assertThrows(IllegalArgumentException.class, () -> ddim.setTimesteps(1001));

            EulerAncestralDiscreteScheduler ancestral = new EulerAncestralDiscreteScheduler(
                    SchedulerConfig.defaults(SchedulerType.EULER_ANCESTRAL));
            ancestral.setTimesteps(3);
            assertThrows(IllegalArgumentException.class, () -> ancestral.step(x, ancestral.timesteps()[0], x));

            PNDMScheduler pndm = new PNDMScheduler(SchedulerConfig.defaults(SchedulerType.PNDM));
            pndm.setTimesteps(10);
            assertThrows(IllegalStateException.class, () -> pndm.stepPlms(x, 1, x)); // PLMS before the PRK warm-up
            pndm.close();
            assertThrows(IllegalStateException.class, () -> pndm.step(x, pndm.timesteps()[0], x));
        }
    }

    @Test
    void perBatchTimestepsInAddNoise() {
        try (Scope scope = Scope.open()) {
            DDIMScheduler ddim = new DDIMScheduler(SchedulerConfig.defaults(SchedulerType.DDIM));
            Tensor x = DiffusersDummies.sampleDeter(), n = DiffusersDummies.noiseDeter();
            Tensor batched = ddim.addNoise(x, n, 10, 200, 500, 999);
            for (int b = 0; b < 4; b++) {
                double t = new double[] {10, 200, 500, 999}[b];
                Tensor single = ddim.addNoise(x.narrow(0, b, 1), n.narrow(0, b, 1), t);
                assertArrayEquals(single.toFloatArray(), batched.narrow(0, b, 1).toFloatArray(), "batch " + b);
            }
        }
    }

    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        Arrays.fill(a, v);
        return a;
    }
}
