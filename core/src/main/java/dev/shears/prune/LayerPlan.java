package dev.shears.prune;

import java.util.Arrays;

/**
 * What one decoder layer keeps. Indices are into the parent layer and strictly increasing.
 *
 * @param kept    false when the whole layer is removed (the other fields are then empty)
 * @param heads   kept query heads; empty removes the attention sub-layer
 * @param kvHeads kept key/value heads; every kept query head's group must be among them, and every
 *                kept group must keep the same number of query heads, so the grouping stays valid
 * @param ffn     kept FFN neurons; empty removes the FFN sub-layer
 */
public record LayerPlan(boolean kept, int[] heads, int[] kvHeads, int[] ffn) {
    public LayerPlan {
        heads = heads.clone();
        kvHeads = kvHeads.clone();
        ffn = ffn.clone();
    }

    /** The removed layer. */
    public static LayerPlan removed() {
        return new LayerPlan(false, new int[0], new int[0], new int[0]);
    }

    /** Keeps everything of a layer with the given widths. */
    public static LayerPlan all(int numHeads, int numKvHeads, int ffnDim) {
        return new LayerPlan(true, IndexSets.range(numHeads), IndexSets.range(numKvHeads), IndexSets.range(ffnDim));
    }

    @Override
    public int[] heads() {
        return heads.clone();
    }

    @Override
    public int[] kvHeads() {
        return kvHeads.clone();
    }

    @Override
    public int[] ffn() {
        return ffn.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LayerPlan p && kept == p.kept && Arrays.equals(heads, p.heads) && Arrays.equals(kvHeads, p.kvHeads)
                && Arrays.equals(ffn, p.ffn);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(new int[] {Boolean.hashCode(kept), Arrays.hashCode(heads), Arrays.hashCode(kvHeads), Arrays.hashCode(ffn)});
    }

    @Override
    public String toString() {
        return kept ? "LayerPlan[heads=" + Arrays.toString(heads) + ", kvHeads=" + Arrays.toString(kvHeads) + ", ffn=" + ffn.length + " neurons]"
                : "LayerPlan[removed]";
    }
}
