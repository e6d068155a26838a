package dev.zoetrope.core.cpu;

/**
 * Software prefetch for weight streams, which Java has no instruction for: a stream kernel reads one byte
 * {@link #AHEAD_BYTES} ahead of where it is, once per 256 bytes consumed, so the lines it needs next are
 * already requested while it computes on the current ones. One BF16 decode stream (a row dot product at a time)
 * went from 13 to 24–27 GB/s on one thread of an AVX-512 EPYC (the hardware prefetcher alone kept too few lines
 * in flight); 1 KiB and 2 KiB ahead measured alike, 4 KiB and more touches per step were slower. The bytes
 * read are summed and handed to {@link #keep}, so the compiler cannot drop the loads; they change no result.
 */
final class Prefetch {
    private Prefetch() {
    }

    /** How far ahead of the current position the touched byte lies. */
    static final long AHEAD_BYTES = Long.getLong("zoetrope.prefetchAhead", 2048);
    /** {@code -Dzoetrope.prefetch=false} turns the touches off (for measuring what they bring). */
    static final boolean ENABLED = !"false".equals(System.getProperty("zoetrope.prefetch"));

    @SuppressWarnings("unused")
    private static int sink;

    /** Consumes a sum of touched bytes: a compare the compiler cannot fold, and a store that never happens. */
    static void keep(int touched) {
        if (touched == Integer.MIN_VALUE) sink = touched;
    }
}
