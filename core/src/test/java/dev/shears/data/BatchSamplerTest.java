package dev.shears.data;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Sampling without reuse: whole sequences, each once per epoch, in a seeded order per domain and epoch; the cursor resumes exactly. */
class BatchSamplerTest {
    static final int SEQ = 8;

    @Test
    void everySequenceOfADomainIsReadExactlyOncePerEpoch(@TempDir Path tmp) {
        // 37 and 13 sequences of 9 tokens (each token is its position, so a sequence names its start)
        TokenDataset big = TokenFolders.counting(tmp, "big", 37 * SEQ + 1 + 5, 0), small = TokenFolders.counting(tmp, "small", 13 * SEQ + 1, 0);
        BatchSampler sampler = new BatchSampler(List.of(big, small), 3, SEQ, Sampling.EPOCHS);
        assertArrayEquals(new long[] {37, 13}, sampler.sequencesPerEpoch());
        List<List<Long>> starts = List.of(new ArrayList<>(), new ArrayList<>());
        int batch = 3;
        int[] tokens = new int[batch * SEQ], targets = new int[batch * SEQ];
        for (int step = 0; step < 60; step++) {
            int[] domains = sampler.sample(step, 0, new double[] {0.6, 0.4}, batch, tokens, targets);
            for (int b = 0; b < batch; b++) {
                long start = tokens[b * SEQ];
                assertEquals(0, start % SEQ, "sequences start every seqLen tokens");
                for (int t = 0; t < SEQ; t++) {
                    assertEquals(start + t, tokens[b * SEQ + t], "consecutive tokens of the split");
                    assertEquals(start + t + 1, targets[b * SEQ + t], "targets are the inputs shifted by one");
                }
                starts.get(domains[b]).add(start / SEQ);
            }
        }
        long[] drawn = sampler.drawn();
        assertEquals(180, drawn[0] + drawn[1]);
        for (int d = 0; d < 2; d++) {
            long n = sampler.sequencesPerEpoch()[d];
            List<Long> order = starts.get(d);
            assertEquals(drawn[d], order.size());
            assertTrue(order.size() >= 2 * n, "domain " + d + " read at least two epochs: " + order.size());
            List<List<Long>> epochs = new ArrayList<>();
            for (int e = 0; (e + 1) * n <= order.size(); e++) {
                List<Long> epoch = order.subList((int) (e * n), (int) ((e + 1) * n));
                assertEquals(n, new HashSet<>(epoch).size(), "domain " + d + " epoch " + e + ": every sequence once");
                assertTrue(epoch.stream().allMatch(i -> i >= 0 && i < n));
                epochs.add(epoch);
            }
            assertNotEquals(epochs.get(0), epochs.get(1), "a fresh order every epoch");
            assertEquals((double) drawn[d] / n, sampler.epochs()[d], 1e-15);
        }
        // every token but the first (and a tail shorter than seqLen) is a target once per epoch
        Set<Long> targetsOfAnEpoch = new HashSet<>();
        for (long i : starts.get(0).subList(0, 37)) for (long t = i * SEQ + 1; t <= i * SEQ + SEQ; t++) assertTrue(targetsOfAnEpoch.add(t));
        assertEquals(37 * SEQ, targetsOfAnEpoch.size());
    }

    @Test
    void aRestoredCursorReadsTheSameSequencesAcrossEpochs(@TempDir Path tmp) {
        TokenDataset a = TokenFolders.counting(tmp, "a", 11 * SEQ + 1, 0), b = TokenFolders.counting(tmp, "b", 50 * SEQ + 1, 0);
        double[] w = {0.5, 0.5};
        BatchSampler straight = new BatchSampler(List.of(a, b), 17, SEQ, Sampling.EPOCHS);
        int[] tokens = new int[4 * SEQ], targets = new int[4 * SEQ];
        for (int step = 0; step < 9; step++) for (int micro = 0; micro < 2; micro++) straight.sample(step, micro, w, 4, tokens, targets);
        ObjectNode state = straight.state();
        assertTrue(state.path("domains").get(0).path("epoch").asLong() >= 2, state.toString());
        assertTrue(state.path("domains").get(0).path("cursor").asLong() > 0, "mid-epoch: " + state);

        BatchSampler resumed = new BatchSampler(List.of(a, b), 17, SEQ, Sampling.EPOCHS);
        resumed.restore(state.deepCopy(), "test");
        assertArrayEquals(straight.drawn(), resumed.drawn());
        int[] t2 = new int[4 * SEQ], g2 = new int[4 * SEQ];
        for (int step = 9; step < 20; step++) {
            for (int micro = 0; micro < 2; micro++) {
                assertArrayEquals(straight.sample(step, micro, w, 4, tokens, targets), resumed.sample(step, micro, w, 4, t2, g2));
                assertArrayEquals(tokens, t2, "step " + step);
                assertArrayEquals(targets, g2);
            }
        }
        assertEquals(straight.state(), resumed.state());
    }

    @Test
    void aCursorOfOtherDataOrSamplingIsRefused(@TempDir Path tmp) {
        TokenDataset a = TokenFolders.counting(tmp, "a", 11 * SEQ + 1, 0), longer = TokenFolders.counting(tmp.resolve("x"), "a", 12 * SEQ + 1, 0);
        ObjectNode state = new BatchSampler(List.of(a), 1, SEQ, Sampling.EPOCHS).state();
        ShearsException changed = assertThrows(ShearsException.class, () -> new BatchSampler(List.of(longer), 1, SEQ, Sampling.EPOCHS).restore(state, "ck"));
        assertTrue(changed.getMessage().contains("the prepared data changed"), changed.getMessage());
        assertThrows(ShearsException.class, () -> new BatchSampler(List.of(a), 1, SEQ, Sampling.RANDOM_OFFSETS).restore(state, "ck"));
        assertThrows(ShearsException.class, () -> new BatchSampler(List.of(a), 1, SEQ + 1, Sampling.EPOCHS).restore(state, "ck"));
    }

    @Test
    void randomOffsetsAreTheEarlierSamplerBitForBit(@TempDir Path tmp) {
        TokenDataset a = TokenFolders.counting(tmp, "a", 500, 0), b = TokenFolders.counting(tmp, "b", 90, 0);
        BatchSampler sampler = new BatchSampler(List.of(a, b), 1337, SEQ, Sampling.RANDOM_OFFSETS);
        double[] w = {0.7, 0.3};
        int[] tokens = new int[5 * SEQ], targets = new int[5 * SEQ];
        for (int step = 0; step < 6; step++) {
            int[] domains = sampler.sample(step, 1, w, 5, tokens, targets);
            // the sampler before issue 14, written out: one generator per (seed, step, micro), a domain draw then a start
            SplittableRandom random = new SplittableRandom(earlierMix(1337, step, 1));
            for (int i = 0; i < 5; i++) {
                double u = random.nextDouble() * (w[0] + w[1]);
                int d = u - w[0] >= 0 ? 1 : 0;
                long start = random.nextLong((d == 0 ? 500 : 90) - SEQ);
                assertEquals(d, domains[i]);
                assertEquals(start, tokens[i * SEQ], "step " + step + " sequence " + i);
            }
        }
        assertEquals(30, sampler.drawn()[0] + sampler.drawn()[1], "random offsets count what they draw too");
    }

    @Test
    void resultsDependOnTheSeed(@TempDir Path tmp) {
        TokenDataset a = TokenFolders.counting(tmp, "a", 200 * SEQ + 1, 0);
        int[] t1 = new int[4 * SEQ], t2 = new int[4 * SEQ], g = new int[4 * SEQ];
        new BatchSampler(List.of(a), 1, SEQ, Sampling.EPOCHS).sample(0, 0, new double[] {1}, 4, t1, g);
        new BatchSampler(List.of(a), 2, SEQ, Sampling.EPOCHS).sample(0, 0, new double[] {1}, 4, t2, g);
        assertNotEquals(java.util.Arrays.toString(t1), java.util.Arrays.toString(t2));
    }

    @Test
    void heldOutHalvesAreDisjointAndEvenlySampled(@TempDir Path tmp) {
        // 21 held-out windows of 9 tokens: the first 11 are FINAL, the other 10 STEERING
        TokenDataset d = TokenFolders.counting(tmp, "d", 100, 21 * (SEQ + 1) + 4);
        long[] fin = HeldOutPart.FINAL.windows(d, SEQ, 100), steer = HeldOutPart.STEERING.windows(d, SEQ, 100);
        assertEquals(11, fin.length);
        assertEquals(10, steer.length);
        Set<Long> tokens = new HashSet<>();
        for (long s : fin) for (long t = s; t < s + SEQ + 1; t++) assertTrue(tokens.add(t));
        for (long s : steer) for (long t = s; t < s + SEQ + 1; t++) assertTrue(tokens.add(t), "token " + t + " is in both halves");
        assertEquals(0, fin[0]);
        assertEquals(11L * (SEQ + 1), steer[0]);
        // at most max windows, evenly spaced through the half, always the same
        assertArrayEquals(new long[] {0, 2 * 9, 5 * 9, 8 * 9}, HeldOutPart.FINAL.windows(d, SEQ, 4));
        assertArrayEquals(new long[] {11 * 9, 13 * 9, 16 * 9, 18 * 9}, HeldOutPart.STEERING.windows(d, SEQ, 4));
        assertArrayEquals(HeldOutPart.STEERING.windows(d, SEQ, 4), HeldOutPart.STEERING.windows(d, SEQ, 4));
        // one window: the final evaluation keeps it, nothing is left to steer by
        TokenDataset one = TokenFolders.counting(tmp, "one", 100, SEQ + 1);
        assertEquals(1, HeldOutPart.FINAL.windows(one, SEQ, 8).length);
        assertEquals(0, HeldOutPart.STEERING.windows(one, SEQ, 8).length);
    }

    private static long earlierMix(long seed, long step, int micro) {
        long z = seed * 0x9E3779B97F4A7C15L + step * 0xBF58476D1CE4E5B9L + micro * 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
