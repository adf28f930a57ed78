package dev.shears.data;

import dev.shears.ShearsException;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Draws training sequences from several domains (prepared folders) by sampling weights. A batch is a
 * pure function of (seed, step, micro-batch, weights): each sequence draws its domain from the weights
 * and a uniformly random start in that domain's training split. Resuming therefore needs only the
 * step and the weights, and the order does not depend on threads or on earlier batches.
 */
public final class BatchSampler {
    private final List<TokenDataset> domains;
    private final long seed;

    public BatchSampler(List<TokenDataset> domains, long seed, int seqLen) {
        if (domains.isEmpty()) throw new ShearsException("no training data given");
        for (TokenDataset d : domains) {
            if (d.tokens(Split.TRAIN) < seqLen + 1L) {
                throw new ShearsException(d.dir() + ": " + d.tokens(Split.TRAIN) + " training tokens, fewer than one sequence of " + (seqLen + 1));
            }
        }
        this.domains = List.copyOf(domains);
        this.seed = seed;
    }

    public List<TokenDataset> domains() {
        return domains;
    }

    /**
     * Fills a batch: {@code targets} are the inputs shifted by one.
     *
     * @param weights sampling weight of each domain (need not sum to 1)
     * @param tokens  [batchSize * seqLen]
     * @param targets [batchSize * seqLen]
     * @return the domain index of each sequence [batchSize]
     */
    public int[] sample(long step, int micro, double[] weights, int batchSize, int seqLen, int[] tokens, int[] targets) {
        if (weights.length != domains.size()) throw new IllegalArgumentException(weights.length + " weights for " + domains.size() + " domains");
        SplittableRandom random = new SplittableRandom(mix(seed, step, micro));
        double total = 0;
        for (double w : weights) total += w;
        int[] chosen = new int[batchSize];
        int[] window = new int[seqLen + 1];
        for (int b = 0; b < batchSize; b++) {
            double u = random.nextDouble() * total;
            int d = 0;
            while (d < weights.length - 1 && (u -= weights[d]) >= 0) d++;
            chosen[b] = d;
            TokenDataset data = domains.get(d);
            long start = random.nextLong(data.tokens(Split.TRAIN) - seqLen);
            data.read(Split.TRAIN, start, window, 0, seqLen + 1);
            System.arraycopy(window, 0, tokens, b * seqLen, seqLen);
            System.arraycopy(window, 1, targets, b * seqLen, seqLen);
        }
        return chosen;
    }

    /** Starts of consecutive non-overlapping held-out windows of {@code seqLen + 1} tokens, at most {@code max}. */
    public static long[] heldOutWindows(TokenDataset data, int seqLen, int max) {
        long available = data.tokens(Split.HELDOUT) / (seqLen + 1);
        int n = (int) Math.min(available, max);
        long[] starts = new long[n];
        for (int i = 0; i < n; i++) starts[i] = (long) i * (seqLen + 1);
        return starts;
    }

    private static long mix(long seed, long step, int micro) {
        long z = seed * 0x9E3779B97F4A7C15L + step * 0xBF58476D1CE4E5B9L + micro * 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
