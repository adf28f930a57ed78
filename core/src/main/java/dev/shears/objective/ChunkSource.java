package dev.shears.objective;

import dev.shears.ShearsException;
import dev.shears.data.HeldOutPart;
import dev.shears.data.Permutation;
import dev.shears.data.Split;
import dev.shears.data.TokenDataset;

/**
 * The raw examples a {@link DenoisingBatcher} corrupts: a stream of equal-length token chunks, where
 * chunk {@code index} is a pure function of {@code index}, so the number of examples drawn is the whole
 * data cursor.
 */
public interface ChunkSource {
    /** Tokens per chunk. */
    int length();

    /** Copies chunk {@code index} of the stream into {@code out[0, length())}. */
    void read(long index, int[] out);

    /**
     * A prepared folder's split cut into {@code n = ⌊tokens / length⌋} disjoint chunks (documents were
     * joined with EOS when the folder was prepared, as OpenBA's {@code preprocess_data_pretrain.py}
     * groups its text), read in a seeded order that changes every epoch: chunk {@code index} is
     * {@code π_e(index mod n)} of epoch {@code e = ⌊index / n⌋}, {@code π_e} a {@link Permutation} seeded by
     * (seed, e), the way {@code BatchSampler} orders a domain's sequences.
     */
    static ChunkSource shuffled(TokenDataset data, Split split, int length, long seed) {
        long chunks = data.tokens(split) / length;
        if (length < 2 || chunks < 1) {
            throw new ShearsException(data.dir() + ": " + data.tokens(split) + " " + split.key + " tokens do not hold one example of " + length + " tokens");
        }
        return new ChunkSource() {
            @Override
            public int length() {
                return length;
            }

            @Override
            public void read(long index, int[] out) {
                long epoch = index / chunks;
                // an odd 64-bit constant (a SplitMix/Weyl increment, as BatchSampler's) spreads the epochs before the mix
                Permutation order = new Permutation(chunks, Permutation.mix(Permutation.mix(seed) + epoch * 0xD1B54A32D192ED03L));
                data.read(split, order.at(index % chunks) * length, out, 0, length);
            }
        };
    }

    /**
     * One half of a prepared folder's held-out split, the same chunks for every run whatever its seed, as
     * {@link HeldOutPart} halves a decoder-only run's held-out windows: the split is cut into {@code n = ⌊tokens / length⌋}
     * disjoint chunks, of which the first {@code ⌈n/2⌉} are {@link HeldOutPart#FINAL} (the loss a run reports at its end)
     * and the rest {@link HeldOutPart#STEERING} (the evaluations during the run, which Dynamic-UL2 re-weights by), so
     * what steers training never reports on it. Chunk {@code index} is the half's chunk {@code index mod count}, in order.
     */
    static ChunkSource heldOut(TokenDataset data, HeldOutPart part, int length) {
        long n = length < 2 ? 0 : data.tokens(Split.HELDOUT) / length;
        long finalCount = (n + 1) / 2;
        long first = part == HeldOutPart.FINAL ? 0 : finalCount;
        long count = part == HeldOutPart.FINAL ? finalCount : n - finalCount;
        if (n < 2) {
            throw new ShearsException(data.dir() + ": " + data.tokens(Split.HELDOUT) + " held-out tokens do not hold two examples of " + length
                    + " tokens (one to steer the run by, one to report on); prepare it with a larger --held-out");
        }
        return new ChunkSource() {
            @Override
            public int length() {
                return length;
            }

            @Override
            public void read(long index, int[] out) {
                data.read(Split.HELDOUT, (first + index % count) * length, out, 0, length);
            }
        };
    }
}
