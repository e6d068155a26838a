package dev.zoetrope.models.llm;

import dev.zoetrope.core.noise.TorchGenerator;

import java.util.Arrays;

/**
 * The next-token rule on one row of logits, as transformers' logits processors compute it (float32, in their
 * order): repetition penalty, then — only when sampling — temperature, top-k, top-p, then softmax and a draw.
 * Removed tokens get −∞. The draw is {@code torch.multinomial(probs, 1)} as torch's default CPU kernel makes it
 * ({@link TorchGenerator#multinomialOne}).
 */
public final class LogitsProcessing {
    private LogitsProcessing() {
    }

    /** Picks the next token for one row; {@code previous} are the ids the penalty looks at. */
    public static int nextToken(float[] logits, int[] previous, GenerationConfig config, TorchGenerator random) {
        float[] scores = logits.clone();
        if (config.repetitionPenalty() != 1.0) repetitionPenalty(scores, previous, (float) config.repetitionPenalty());
        if (!config.doSample()) return argmax(scores);
        if (config.temperature() != 1.0) temperature(scores, (float) config.temperature());
        if (config.topK() != 0) topK(scores, config.topK());
        if (config.topP() < 1.0) topP(scores, (float) config.topP());
        return sample(scores, random);
    }

    /** RepetitionPenaltyLogitsProcessor: a seen token's logit is divided by p when positive, multiplied when negative. */
    public static void repetitionPenalty(float[] scores, int[] previous, float penalty) {
        boolean[] done = new boolean[scores.length];
        for (int id : previous) {
            if (id < 0 || id >= scores.length || done[id]) continue;   // duplicates get the penalty once, as gather/scatter does
            done[id] = true;
            float s = scores[id];
            scores[id] = s < 0 ? s * penalty : s / penalty;
        }
    }

    /** TemperatureLogitsWarper. */
    public static void temperature(float[] scores, float temperature) {
        for (int i = 0; i < scores.length; i++) scores[i] = scores[i] / temperature;
    }

    /** TopKLogitsWarper: everything below the k-th largest score is removed (ties with it stay). */
    public static void topK(float[] scores, int k) {
        int keep = Math.min(Math.max(k, 1), scores.length);
        float[] sorted = scores.clone();
        Arrays.sort(sorted);
        float threshold = sorted[sorted.length - keep];
        for (int i = 0; i < scores.length; i++) if (scores[i] < threshold) scores[i] = Float.NEGATIVE_INFINITY;
    }

    /**
     * TopPLogitsWarper: sort ascending, remove the tokens whose cumulative softmax probability is ≤ 1 − top_p,
     * always keeping the most likely one.
     */
    public static void topP(float[] scores, float topP) {
        int n = scores.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> {
            int c = Float.compare(scores[a], scores[b]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        float[] sorted = new float[n];
        for (int i = 0; i < n; i++) sorted[i] = scores[order[i]];
        float[] probs = softmax(sorted);
        float cumulative = 0f;
        float limit = 1f - topP;
        boolean[] remove = new boolean[n];
        for (int i = 0; i < n; i++) {
            cumulative += probs[i];
            remove[i] = cumulative <= limit;
        }
        remove[n - 1] = false;
        for (int i = 0; i < n; i++) if (remove[i]) scores[order[i]] = Float.NEGATIVE_INFINITY;
    }

    /**
     * Softmax in float32 as torch's CPU kernel arranges it: exp(x − max), their float sum, then every value
     * times 1/sum (−∞ entries get probability 0). torch's vectorised exp and lane-wise sum (whose order depends
     * on the CPU's vector width) are not reproduced bit for bit, so probabilities agree to float rounding.
     */
    public static float[] softmax(float[] scores) {
        float max = Float.NEGATIVE_INFINITY;
        for (float s : scores) max = Math.max(max, s);
        if (max == Float.NEGATIVE_INFINITY || Float.isNaN(max)) {
            throw new IllegalStateException("every token was removed or a logit is NaN: nothing to sample from");
        }
        float[] p = new float[scores.length];
        float sum = 0f;
        for (int i = 0; i < p.length; i++) {
            p[i] = (float) Math.exp(scores[i] - max);
            sum += p[i];
        }
        float inverse = 1f / sum;
        for (int i = 0; i < p.length; i++) p[i] *= inverse;
        return p;
    }

    /** First index of the largest score (torch.argmax's tie rule). */
    public static int argmax(float[] scores) {
        int best = 0;
        for (int i = 1; i < scores.length; i++) {
            if (scores[i] > scores[best] || (Float.isNaN(scores[i]) && !Float.isNaN(scores[best]))) best = i;
        }
        return best;
    }

    /**
     * One draw from softmax(scores): {@code torch.multinomial(probs, num_samples=1)} on {@code random}, which
     * uses one 64-bit draw per vocabulary entry whatever the probabilities.
     */
    public static int sample(float[] scores, TorchGenerator random) {
        return random.multinomialOne(softmax(scores));
    }
}
