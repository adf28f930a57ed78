package dev.shears.data;

import org.junit.jupiter.api.Test;

import java.util.BitSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The seeded O(1)-memory permutation behind the epoch order of the sampler. */
class PermutationTest {
    @Test
    void isABijectionOnEverySize() {
        long[] sizes = new long[210];
        for (int i = 0; i < 200; i++) sizes[i] = i + 1;
        long[] more = {255, 256, 257, 1000, 4095, 4096, 4097, 65_535, 65_536, 65_537};
        System.arraycopy(more, 0, sizes, 200, more.length);
        for (long size : sizes) {
            for (long seed : new long[] {0, 1, -7, 0x1234_5678_9ABCL}) {
                Permutation p = new Permutation(size, seed);
                BitSet seen = new BitSet();
                for (long i = 0; i < size; i++) {
                    long v = p.at(i);
                    assertTrue(v >= 0 && v < size, size + ": " + v);
                    assertFalse(seen.get((int) v), size + ": " + v + " twice");
                    seen.set((int) v);
                }
                assertEquals(size, seen.cardinality());
            }
        }
    }

    @Test
    void seedsGiveDifferentOrdersAndTheSameSeedTheSame() {
        Permutation a = new Permutation(10_000, 1), b = new Permutation(10_000, 2), again = new Permutation(10_000, 1);
        int same = 0, fixed = 0;
        for (long i = 0; i < 10_000; i++) {
            assertEquals(a.at(i), again.at(i));
            if (a.at(i) == b.at(i)) same++;
            if (a.at(i) == i) fixed++;
        }
        // a random permutation has about one fixed point, and two agree in about one place
        assertTrue(same < 10, "orders of two seeds agree in " + same + " places");
        assertTrue(fixed < 10, fixed + " fixed points");
        assertNotEquals(a.at(0), b.at(0));
    }

    @Test
    void positionsAreSpreadLikeARandomOrder() {
        // the first tenth of the order draws from every tenth of the values about equally
        int size = 100_000;
        Permutation p = new Permutation(size, 42);
        int[] bins = new int[10];
        for (int i = 0; i < size / 10; i++) bins[(int) (p.at(i) * 10 / size)]++;
        for (int b : bins) assertTrue(Math.abs(b - 1000) < 150, java.util.Arrays.toString(bins));
    }

    @Test
    void hugeSizesNeedNoMemory() {
        long size = 50_000_000_000L / 4096; // a 50B-token domain in 4,096-token sequences
        Permutation p = new Permutation(size, 9);
        for (long i = 0; i < 1000; i++) assertTrue(p.at(size - 1 - i) < size);
        Permutation most = new Permutation(Permutation.MAX_SIZE, 3);
        assertTrue(most.at(Permutation.MAX_SIZE - 1) < Permutation.MAX_SIZE);
        assertThrows(IllegalArgumentException.class, () -> new Permutation(0, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> p.at(size));
    }
}
