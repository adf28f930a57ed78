package dev.shears.eval;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * CPython's {@code random.Random}, bit for bit, for the calls lm-evaluation-harness makes: it samples
 * few-shot examples with {@code random.Random(1234).sample(docs, k)}, so the same examples are chosen
 * here only if the generator and {@code sample} are CPython's own.
 *
 * <p>Followed: CPython 3.11 (Debian's {@code /usr/bin/python3}, 3.11.2), {@code Modules/_randommodule.c}
 * (MT19937 of Matsumoto and Nishimura, {@code init_by_array} seeding, {@code genrand_res53},
 * {@code getrandbits}) and {@code Lib/random.py} ({@code _randbelow_with_getrandbits}, {@code randrange},
 * {@code shuffle}, {@code sample}). For integer seeds and the methods here every CPython from 3.2 gives
 * the same values; the versions differ only in what they reject: {@code getrandbits(0)} raises before
 * 3.9, {@code sample} of a set is deprecated in 3.9 and a {@code TypeError} from 3.11, the {@code random}
 * argument of {@code shuffle} is gone in 3.11, non-integer {@code randrange} arguments are deprecated in
 * 3.10 and a {@code TypeError} from 3.12, and {@code _randbelow(0)} returns 0 before 3.10 (it is never
 * called with 0 by the methods here). Python 2's {@code sample} drew {@code int(random() * n)} and differs.
 *
 * <pre>{@code
 * PyRandom rnd = new PyRandom(1234);
 * List<Integer> five = rnd.sample(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), 5); // random.Random(1234).sample(range(10), 5)
 * }</pre>
 *
 * Not thread-safe, as CPython's object is used from one thread at a time.
 */
public final class PyRandom {
    private static final int N = 624;
    private static final int M = 397;
    private static final int MATRIX_A = 0x9908b0df;
    private static final int UPPER_MASK = 0x80000000;
    private static final int LOWER_MASK = 0x7fffffff;
    /** {@code init_genrand}'s seed inside {@code init_by_array} (mt19937ar.c). */
    private static final int ARRAY_SEED = 19650218;

    private final int[] mt = new int[N];
    private int index;

    /** {@code random.Random(seed)} for an integer seed; negative seeds act as their absolute value, as in CPython. */
    public PyRandom(long seed) {
        this(BigInteger.valueOf(seed));
    }

    /** {@code random.Random(seed)} for an integer seed of any size. */
    public PyRandom(BigInteger seed) {
        initByArray(keyWords(seed.abs()));
    }

    /**
     * CPython's {@code random_seed}: the absolute value split into 32-bit words, least significant
     * first; zero is one word 0.
     */
    static int[] keyWords(BigInteger n) {
        int bits = n.bitLength();
        int words = bits == 0 ? 1 : (bits - 1) / 32 + 1;
        int[] key = new int[words];
        for (int i = 0; i < words; i++) key[i] = n.shiftRight(32 * i).intValue();
        return key;
    }

    private void initGenrand(int s) {
        mt[0] = s;
        for (int i = 1; i < N; i++) mt[i] = 1812433253 * (mt[i - 1] ^ (mt[i - 1] >>> 30)) + i;
        index = N;
    }

    private void initByArray(int[] key) {
        initGenrand(ARRAY_SEED);
        int i = 1;
        int j = 0;
        for (int k = Math.max(N, key.length); k > 0; k--) {
            mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >>> 30)) * 1664525)) + key[j] + j;
            i++;
            j++;
            if (i >= N) {
                mt[0] = mt[N - 1];
                i = 1;
            }
            if (j >= key.length) j = 0;
        }
        for (int k = N - 1; k > 0; k--) {
            mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >>> 30)) * 1566083941)) - i;
            i++;
            if (i >= N) {
                mt[0] = mt[N - 1];
                i = 1;
            }
        }
        mt[0] = UPPER_MASK; // non-zero initial array
    }

    /** {@code genrand_uint32}: the next 32 bits, as an unsigned value in an int. */
    int nextWord() {
        if (index >= N) twist();
        int y = mt[index++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y;
    }

    private void twist() {
        int kk = 0;
        for (; kk < N - M; kk++) {
            int y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
            mt[kk] = mt[kk + M] ^ (y >>> 1) ^ ((y & 1) * MATRIX_A);
        }
        for (; kk < N - 1; kk++) {
            int y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
            mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ ((y & 1) * MATRIX_A);
        }
        int y = (mt[N - 1] & UPPER_MASK) | (mt[0] & LOWER_MASK);
        mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ ((y & 1) * MATRIX_A);
        index = 0;
    }

    /** {@code random()}: a double in [0, 1) with 53 random bits ({@code genrand_res53}: 27 bits of one draw, 26 of the next). */
    public double random() {
        int a = nextWord() >>> 5;
        int b = nextWord() >>> 6;
        return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
    }

    /**
     * {@code getrandbits(k)}: a non-negative integer of k random bits. Up to 32 bits it is one draw's
     * top bits; above, one draw per 32-bit word, least significant word first, the last word keeping
     * its top bits.
     */
    public BigInteger getrandbits(int k) {
        if (k < 0) throw new IllegalArgumentException("number of bits must be non-negative: " + k);
        if (k <= 63) return BigInteger.valueOf(bits(k));
        BigInteger r = BigInteger.ZERO;
        int shift = 0;
        for (int left = k; left > 0; left -= 32, shift += 32) {
            long word = Integer.toUnsignedLong(nextWord());
            if (left < 32) word >>>= 32 - left;
            r = r.or(BigInteger.valueOf(word).shiftLeft(shift));
        }
        return r;
    }

    /** {@code getrandbits(k)} for k ≤ 63, as a long (the same draws as {@link #getrandbits}). */
    long bits(int k) {
        if (k < 0 || k > 63) throw new IllegalArgumentException("bits(k) takes 0 <= k <= 63: " + k);
        if (k == 0) return 0;
        if (k <= 32) return Integer.toUnsignedLong(nextWord()) >>> (32 - k);
        long low = Integer.toUnsignedLong(nextWord());
        long high = Integer.toUnsignedLong(nextWord()) >>> (64 - k);
        return (high << 32) | low;
    }

    /** {@code _randbelow_with_getrandbits(n)}: uniform in [0, n) by rejection of {@code getrandbits(n.bit_length())}. */
    public long randbelow(long n) {
        if (n <= 0) throw new IllegalArgumentException("randbelow needs n > 0: " + n);
        int k = 64 - Long.numberOfLeadingZeros(n);
        long r = bits(k);
        while (r >= n) r = bits(k);
        return r;
    }

    /** {@code randrange(stop)}. */
    public long randrange(long stop) {
        if (stop <= 0) throw new IllegalArgumentException("empty range for randrange(" + stop + ")");
        return randbelow(stop);
    }

    /** {@code randrange(start, stop)}. */
    public long randrange(long start, long stop) {
        return randrange(start, stop, 1);
    }

    /** {@code randrange(start, stop, step)}: the fast path for step 1, else a multiple of step below the count. */
    public long randrange(long start, long stop, long step) {
        long width = Math.subtractExact(stop, start);
        if (step == 1) {
            if (width > 0) return start + randbelow(width);
            throw new IllegalArgumentException("empty range for randrange(" + start + ", " + stop + ", " + width + ")");
        }
        long n;
        if (step > 0) n = Math.floorDiv(width + step - 1, step);
        else if (step < 0) n = Math.floorDiv(width + step + 1, step);
        else throw new IllegalArgumentException("zero step for randrange()");
        if (n <= 0) throw new IllegalArgumentException("empty range for randrange()");
        return start + step * randbelow(n);
    }

    /** {@code shuffle(x)}: Fisher–Yates from the end, in place. */
    public <T> void shuffle(List<T> x) {
        for (int i = x.size() - 1; i >= 1; i--) {
            int j = (int) randbelow(i + 1);
            T t = x.get(i);
            x.set(i, x.get(j));
            x.set(j, t);
        }
    }

    /**
     * {@code sample(population, k)}: k distinct positions of the population, in selection order.
     * CPython tracks either the unselected pool (a copy of the population, when it is no bigger than
     * a k-entry set would be) or the set of selected positions (redrawing a position already taken);
     * the two draw differently, so the branch must be CPython's: {@link #setSize}.
     *
     * @throws IllegalArgumentException when k is negative or larger than the population, as CPython's ValueError
     */
    public <T> List<T> sample(List<T> population, int k) {
        int n = population.size();
        if (k < 0 || k > n) throw new IllegalArgumentException("Sample larger than population or is negative: k " + k + " of " + n);
        List<T> result = new ArrayList<>(k);
        if (n <= setSize(k)) {
            List<T> pool = new ArrayList<>(population);
            for (int i = 0; i < k; i++) {
                int j = (int) randbelow(n - i);
                result.add(pool.get(j));
                pool.set(j, pool.get(n - i - 1)); // move the last unselected item into the vacancy
            }
        } else {
            Set<Integer> selected = new HashSet<>();
            for (int i = 0; i < k; i++) {
                int j = (int) randbelow(n);
                while (selected.contains(j)) j = (int) randbelow(n);
                selected.add(j);
                result.add(population.get(j));
            }
        }
        return result;
    }

    /**
     * {@code sample}'s {@code setsize}: 21, plus {@code 4 ** ceil(log(3k, 4))} for k > 5. CPython takes
     * the logarithm in floating point; 3k is never a power of 4, so the smallest m with 4^m ≥ 3k is
     * the same number without rounding.
     */
    static long setSize(int k) {
        long size = 21;
        if (k > 5) {
            long power = 1;
            while (power < 3L * k) power *= 4;
            size += power;
        }
        return size;
    }
}
