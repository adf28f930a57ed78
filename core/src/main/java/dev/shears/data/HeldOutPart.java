package dev.shears.data;

/**
 * The two disjoint halves of a domain's held-out windows, so that what steers training is never what
 * reports on it. The held-out split is cut into consecutive non-overlapping windows of
 * {@code seqLen + 1} tokens (the first {@code seqLen} are the input, the last {@code seqLen} the
 * targets); of {@code n} windows, the first {@code ⌈n/2⌉} are {@link #FINAL} and the rest
 * {@link #STEERING}. An evaluation reads at most {@code max} windows of its half, evenly spaced
 * through it (all of them when the half has no more), the same windows every time.
 */
public enum HeldOutPart {
    /**
     * The evaluations during a run: the {@code eval} lines of {@code metrics.jsonl}, the losses dynamic
     * batch loading compares with the reference, and a reference model's measured losses.
     */
    STEERING,
    /** The final evaluation a run reports ({@code final} line, results, reports); never seen by dynamic batch loading. */
    FINAL;

    /** Starts (in the held-out split) of this half's windows, at most {@code max}. */
    public long[] windows(TokenDataset data, int seqLen, int max) {
        long n = data.tokens(Split.HELDOUT) / (seqLen + 1);
        long finalCount = (n + 1) / 2;
        long first = this == FINAL ? 0 : finalCount;
        long count = this == FINAL ? finalCount : n - finalCount;
        int taken = (int) Math.min(count, Math.max(max, 0));
        long[] starts = new long[taken];
        for (int i = 0; i < taken; i++) {
            long window = first + Math.floorDiv((long) i * count, taken); // evenly spaced; 0, 1, 2, … when all are taken
            starts[i] = window * (seqLen + 1);
        }
        return starts;
    }
}
