package dev.zoetrope.models.llm;

import dev.zoetrope.core.noise.TorchGenerator;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** transformers' logits processors on hand-computed rows. */
class LogitsProcessingTest {
    static final float NEG = Float.NEGATIVE_INFINITY;

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeOncePerToken() {
        float[] s = {2f, -2f, 1f};
        LogitsProcessing.repetitionPenalty(s, new int[] {0, 1, 1}, 2f);
        assertArrayEquals(new float[] {1f, -4f, 1f}, s);
    }

    @Test
    void temperatureDivides() {
        float[] s = {1f, -3f};
        LogitsProcessing.temperature(s, 0.5f);
        assertArrayEquals(new float[] {2f, -6f}, s);
    }

    @Test
    void topKKeepsTiesWithTheKthValue() {
        float[] s = {1f, 3f, 2f, 3f};
        LogitsProcessing.topK(s, 2);
        assertArrayEquals(new float[] {NEG, 3f, NEG, 3f}, s);
        float[] t = {1f, 3f, 2f, 3f};
        LogitsProcessing.topK(t, 3);
        assertArrayEquals(new float[] {NEG, 3f, 2f, 3f}, t);
        float[] all = {1f, 2f};
        LogitsProcessing.topK(all, 50);   // k above the vocabulary keeps everything
        assertArrayEquals(new float[] {1f, 2f}, all);
    }

    @Test
    void topPRemovesTheUnlikelyTailButKeepsTheBest() {
        float[] p = {0.5f, 0.3f, 0.15f, 0.05f};
        float[] s = new float[4];
        for (int i = 0; i < 4; i++) s[i] = (float) Math.log(p[i]);
        float[] kept = s.clone();
        LogitsProcessing.topP(kept, 0.75f);    // ascending cumsum 0.05, 0.2 ≤ 0.25 are removed
        assertArrayEquals(new float[] {s[0], s[1], NEG, NEG}, kept);
        float[] tiny = s.clone();
        LogitsProcessing.topP(tiny, 0.01f);    // only the most likely survives
        assertArrayEquals(new float[] {s[0], NEG, NEG, NEG}, tiny);
    }

    @Test
    void greedyTakesTheFirstMaximumAfterThePenalty() {
        GenerationConfig greedy = GenerationConfig.greedy(5, List.of(9));
        assertEquals(1, LogitsProcessing.nextToken(new float[] {1f, 3f, 3f}, new int[0], greedy, null));
        assertEquals(2, LogitsProcessing.nextToken(new float[] {1f, 3f, 2f}, new int[] {1},
                greedy.withRepetitionPenalty(2.0), null));
    }

    @Test
    void samplingIsSeededAndRespectsTheFilters() {
        float[] logits = {0f, 0.5f, 1f, 0.2f, -1f, 0.7f};
        GenerationConfig sampling = GenerationConfig.greedy(5, List.of()).withSampling(1.0, 0, 1.0, 42L);
        int[] a = draws(logits, sampling, 42), b = draws(logits, sampling, 42), c = draws(logits, sampling, 43);
        assertArrayEquals(a, b);
        assertNotEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(c));
        // top-k 1 is greedy whatever the seed or temperature
        GenerationConfig top1 = GenerationConfig.greedy(5, List.of()).withSampling(3.0, 1, 1.0, 1L);
        for (int t : draws(logits, top1, 5)) assertEquals(2, t);
        // top-k 2 only ever draws the two best
        GenerationConfig top2 = GenerationConfig.greedy(5, List.of()).withSampling(1.0, 2, 1.0, 1L);
        for (int t : draws(logits, top2, 5)) assertEquals(true, t == 2 || t == 5, "drew " + t);
    }

    private static int[] draws(float[] logits, GenerationConfig config, long seed) {
        TorchGenerator random = TorchGenerator.seeded(seed);
        int[] out = new int[200];
        for (int i = 0; i < out.length; i++) out[i] = LogitsProcessing.nextToken(logits, new int[0], config, random);
        return out;
    }

    @Test
    void samplingFrequenciesFollowTheSoftmax() {
        float[] logits = {0f, (float) Math.log(3), -1e9f};   // probabilities 1/4, 3/4, 0
        TorchGenerator random = TorchGenerator.seeded(7);
        int n = 20000, ones = 0;
        for (int i = 0; i < n; i++) {
            int t = LogitsProcessing.sample(logits, random);
            assertTrue(t < 2, "drew a token of probability 0");
            ones += t;
        }
        assertEquals(0.75, ones / (double) n, 0.015);
    }

    /** torch.multinomial(probs, 1) = argmax(probs / q), q one exponential_(1) per category, in category order. */
    @Test
    void aDrawIsTorchsGumbelMaxOverOneExponentialPerCategory() {
        float[] logits = {0.3f, -1f, 2f, 0.5f, 1.9f, -3f, 0f};
        float[] probs = LogitsProcessing.softmax(logits);
        for (long seed = 0; seed < 50; seed++) {
            TorchGenerator g = TorchGenerator.seeded(seed), twin = g.copy();
            int drawn = LogitsProcessing.sample(logits, g);
            float[] q = twin.exponentialFloats(probs.length, 1.0);
            int best = 0;
            for (int i = 1; i < probs.length; i++) if (probs[i] / q[i] > probs[best] / q[best]) best = i;
            assertEquals(best, drawn, "seed " + seed);
            assertEquals(twin.random64(), g.random64(), "a draw consumes one 64-bit output per category");
        }
    }

    @Test
    void invalidSettingsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> GenerationConfig.greedy(0, List.of()));
        assertThrows(IllegalArgumentException.class, () -> GenerationConfig.greedy(5, List.of()).withSampling(0, 50, 1, null));
        assertThrows(IllegalArgumentException.class, () -> GenerationConfig.greedy(5, List.of()).withSampling(1, 50, 0, null));
        assertThrows(IllegalArgumentException.class, () -> GenerationConfig.greedy(5, List.of()).withRepetitionPenalty(-1));
        assertThrows(IllegalStateException.class, () -> LogitsProcessing.sample(new float[] {NEG, NEG}, TorchGenerator.seeded(1)));
    }
}
