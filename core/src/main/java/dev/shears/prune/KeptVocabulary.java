package dev.shears.prune;

import dev.shears.ShearsException;
import dev.shears.model.ModelConfig;

import java.util.Arrays;

/**
 * The result of choosing a pruned vocabulary: new id {@code i} is old id {@code kept[i]}.
 *
 * @param kept          old ids, strictly increasing
 * @param mandatory     ids kept whatever the counts (special, byte, dummy-prefix, user-listed entries, characters by {@link CharacterPolicy#SEEN}, and their merge ancestry)
 * @param byFrequency   ids chosen for their counts
 * @param byAncestry    ids kept only because a piece chosen for its count is built through them
 * @param coveredTokens counted tokens whose id is kept
 * @param countedTokens tokens counted
 */
public record KeptVocabulary(int[] kept, int mandatory, int byFrequency, int byAncestry, long coveredTokens, long countedTokens) {
    public KeptVocabulary {
        kept = kept.clone();
        String problem = IndexSets.problem(kept, Integer.MAX_VALUE);
        if (problem != null) throw new ShearsException("kept vocabulary: " + problem);
    }

    @Override
    public int[] kept() {
        return kept.clone();
    }

    /** Ids after pruning. */
    public int size() {
        return kept.length;
    }

    /** The new id of an old one, or -1 when it is dropped. */
    public int newId(int oldId) {
        int i = Arrays.binarySearch(kept, oldId);
        return i >= 0 ? i : -1;
    }

    /** Whether every id is kept. */
    public boolean keepsAll(int[] oldIds) {
        for (int id : oldIds) if (newId(id) < 0) return false;
        return true;
    }

    /** Old ids to new ones; every id must be kept. */
    public int[] remap(int[] oldIds) {
        int[] out = new int[oldIds.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = newId(oldIds[i]);
            if (out[i] < 0) throw new ShearsException("token id " + oldIds[i] + " (position " + i + ") is not in the pruned vocabulary");
        }
        return out;
    }

    /** Fraction of the counted tokens whose id is kept. */
    public double coverage() {
        return countedTokens == 0 ? 1 : (double) coveredTokens / countedTokens;
    }

    /** The pruning plan that keeps all of {@code parent} but these vocabulary rows. */
    public PruningPlan plan(ModelConfig parent) {
        if (kept.length > 0 && kept[kept.length - 1] >= parent.vocabSize()) {
            throw new ShearsException("the pruned vocabulary keeps id " + kept[kept.length - 1] + " but the model has only " + parent.vocabSize() + " rows");
        }
        return PruningPlan.keepAll(parent).withVocab(kept);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KeptVocabulary k && Arrays.equals(kept, k.kept) && mandatory == k.mandatory && byFrequency == k.byFrequency
                && byAncestry == k.byAncestry && coveredTokens == k.coveredTokens && countedTokens == k.countedTokens;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(kept) * 31 + Long.hashCode(coveredTokens);
    }

    @Override
    public String toString() {
        return "KeptVocabulary[" + kept.length + " ids: " + mandatory + " mandatory, " + byFrequency + " by frequency, " + byAncestry
                + " merge ancestry; coverage " + String.format("%.4f", coverage()) + "]";
    }
}
