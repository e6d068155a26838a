package dev.zoetrope.core.noise;

/**
 * The standard 32-bit Mersenne Twister (MT19937), the engine behind PyTorch's CPU generator
 * ({@code at::mt19937}); its output equals C++ {@code std::mt19937} for the same 32-bit seed.
 * Not thread-safe: a generator is used by one thread at a time.
 */
final class Mt19937 {
    private static final int N = 624;
    private static final int M = 397;
    private static final int MATRIX_A = 0x9908b0df;
    private static final int UPPER_MASK = 0x80000000;
    private static final int LOWER_MASK = 0x7fffffff;

    private final int[] state = new int[N];
    private int next;

    Mt19937(int seed) {
        state[0] = seed;
        for (int i = 1; i < N; i++) {
            int prev = state[i - 1];
            state[i] = 1812433253 * (prev ^ (prev >>> 30)) + i; // mod 2^32 by int overflow
        }
        next = N; // the first draw regenerates the whole state block
    }

    private Mt19937(Mt19937 other) {
        System.arraycopy(other.state, 0, state, 0, N);
        next = other.next;
    }

    Mt19937 copy() {
        return new Mt19937(this);
    }

    /** The next 32-bit output (as the bits of an int; read it unsigned with {@code & 0xffffffffL}). */
    int nextInt() {
        if (next >= N) twist();
        int y = state[next++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y;
    }

    private void twist() {
        for (int i = 0; i < N; i++) {
            int y = (state[i] & UPPER_MASK) | (state[(i + 1) % N] & LOWER_MASK);
            int v = state[(i + M) % N] ^ (y >>> 1);
            state[i] = (y & 1) != 0 ? v ^ MATRIX_A : v;
        }
        next = 0;
    }
}
