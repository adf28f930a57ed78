package dev.shears.data;

/**
 * A seeded pseudo-random permutation of {@code [0, size)} in O(1) memory: a balanced Feistel network
 * on the smallest even number of bits that covers {@code size}, restricted to {@code [0, size)} by
 * cycle walking (Black and Rogaway 2002, "Ciphers with arbitrary finite domains"). The network is a
 * bijection on its {@code 2^(2·half)} values whatever the round function, and walking the cycle of
 * an index in range until it lands in range again keeps the restriction a bijection; the domain is
 * less than four times {@code size}, so a walk takes under four rounds of the network on average.
 * A 50-billion-token domain is ordered without an array of its sequences.
 *
 * <pre>{@code
 * Permutation p = new Permutation(10, 42);
 * long[] order = new long[10];
 * for (int i = 0; i < 10; i++) order[i] = p.at(i); // 0..9, each once, in a seeded order
 * }</pre>
 */
public final class Permutation {
    /**
     * Feistel rounds: Luby and Rackoff's construction is a pseudo-random permutation from four rounds
     * of a pseudo-random function; six leave margin for the simple mixing function used here.
     */
    static final int ROUNDS = 6;
    /** Largest size: two halves of at most 31 bits keep every value a non-negative long. */
    public static final long MAX_SIZE = 1L << 62;

    private final long size;
    private final int half;
    private final long mask;
    private final long[] keys = new long[ROUNDS];

    /** @param seed any long; different seeds give (practically) independent orders */
    public Permutation(long size, long seed) {
        if (size < 1 || size > MAX_SIZE) throw new IllegalArgumentException("a permutation of " + size + " values");
        this.size = size;
        int bits = size == 1 ? 0 : 64 - Long.numberOfLeadingZeros(size - 1);
        this.half = (bits + 1) / 2;
        this.mask = (1L << half) - 1;
        long state = seed;
        for (int r = 0; r < ROUNDS; r++) {
            state += 0x9E3779B97F4A7C15L;
            keys[r] = mix(state);
        }
    }

    public long size() {
        return size;
    }

    /** The value at position {@code index} of the order, in {@code [0, size)}. */
    public long at(long index) {
        if (index < 0 || index >= size) throw new IndexOutOfBoundsException(index + " of " + size);
        long x = network(index);
        while (x >= size) x = network(x); // cycle walking: stays on index's cycle, which returns into range
        return x;
    }

    /** The Feistel network on {@code 2·half} bits. */
    private long network(long x) {
        long left = x >>> half, right = x & mask;
        for (long key : keys) {
            long next = left ^ (mix(right ^ key) & mask);
            left = right;
            right = next;
        }
        return left << half | right;
    }

    /**
     * SplitMix64's finaliser (Steele, Lea, Flood 2014): a bijective mix of 64 bits. Public so that other
     * seeded draws (the denoising batcher of {@code objective} and its chunk order) derive their generators the same way.
     */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
