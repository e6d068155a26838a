package dev.zoetrope.models.internvl;

/**
 * The model card's {@code get_index}: {@code numSegments} frame indices at the centres of equal segments
 * of the clip (or of the {@code bound} window in seconds). Python's {@code round} and {@code np.round} round
 * half to even ({@link Math#rint}); {@code int()} truncates toward zero.
 */
public final class FrameSampling {
    private FrameSampling() {
    }

    /**
     * @param bound    {start, end} in seconds, or null for the whole clip
     * @param fps      the clip's average frame rate
     * @param maxFrame index of the last frame (frame count − 1)
     */
    public static int[] getIndex(double[] bound, double fps, int maxFrame, int firstIdx, int numSegments) {
        if (numSegments < 1) throw new IllegalArgumentException("num_segments must be >= 1, got " + numSegments);
        if (bound != null && bound.length != 2) throw new IllegalArgumentException("bound must be {start, end} seconds");
        double start = bound != null ? bound[0] : -100000, end = bound != null ? bound[1] : 100000;
        long startIdx = Math.max(firstIdx, (long) Math.rint(start * fps));
        long endIdx = Math.min((long) Math.rint(end * fps), maxFrame);
        double segSize = (double) (endIdx - startIdx) / numSegments;
        int[] out = new int[numSegments];
        for (int idx = 0; idx < numSegments; idx++) {
            out[idx] = (int) (startIdx + (segSize / 2) + Math.rint(segSize * idx));
        }
        return out;
    }
}
