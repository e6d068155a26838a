package dev.zoetrope.models.llm;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
        SplittableRandom random = new SplittableRandom(seed);
        int[] out = new int[200];
        for (int i = 0; i < out.length; i++) out[i] = LogitsProcessing.nextToken(logits, new int[0], config, random);
        return out;
    }

    @Test
    void samplingFrequenciesFollowTheSoftmax() {
        float[] logits = {0f, (float) Math.log(3)};   // probabilities 1/4, 3/4
        SplittableRandom random = new SplittableRandom(7);
        int n = 20000, ones = 0;
        for (int i = 0; i < n; i++) ones += LogitsProcessing.sample(logits, random);
        assertEquals(0.75, ones / (double) n, 0.015);
    }

    @Test
    void invalidSettingsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> GenerationConfig.greedy(0, List.of()));
        assertThrows(IllegalArgumentException.class, () -> GenerationConfig.greedy(5, List.of()).withSampling(0, 50, 1, null));
        assertThrows(IllegalArgumentException.class, () -> GenerationConfig.greedy(5, List.of()).withSampling(1, 50, 0, null));
        assertThrows(IllegalArgumentException.class, () -> GenerationConfig.greedy(5, List.of()).withRepetitionPenalty(-1));
        assertThrows(IllegalStateException.class, () -> LogitsProcessing.sample(new float[] {NEG, NEG}, new SplittableRandom()));
    }
}
