package dev.shears.objective;

import dev.shears.ShearsException;
import dev.shears.kernel.CrossEntropy;

/**
 * A denoised (inputs, targets) pair for a decoder-only model, as UL2 trains its decoder-only variant
 * and T5's decoder-only prefix LM does: the two are concatenated into one sequence, the model attends
 * bidirectionally over the first {@code prefixLength} positions and causally after, and the loss is the
 * next-token loss on the target tokens only. Position p's label is token p + 1 when that token belongs
 * to the targets, {@link CrossEntropy#IGNORE} otherwise, so {@code CrossEntropy} scores exactly the
 * targets. (Plain causal LM over raw sequences is {@code data.BatchSampler}'s shifted targets.)
 *
 * <pre>
 * inputs [a b c], targets [x y &lt;/s&gt;], seqLen 8
 * tokens  a b c x y &lt;/s&gt; pad pad
 * labels  - - x y &lt;/s&gt; - - -          prefixLength 3
 * </pre>
 *
 * @param tokens       [seqLen] inputs then targets, padded
 * @param labels       [seqLen] next-token labels on target tokens, {@link CrossEntropy#IGNORE} elsewhere
 * @param prefixLength positions attended bidirectionally: the inputs
 */
public record PrefixLmExample(int[] tokens, int[] labels, int prefixLength) {
    /** Lays out {@code inputs} then {@code targets} in {@code seqLen} positions padded with {@code padId}. */
    public static PrefixLmExample of(int[] inputs, int[] targets, int seqLen, int padId) {
        int total = inputs.length + targets.length;
        if (inputs.length == 0 || targets.length == 0) {
            throw new ShearsException("a prefix-LM example needs a non-empty prefix and targets, got " + inputs.length + " and " + targets.length + " tokens");
        }
        if (total > seqLen) {
            throw new ShearsException("a prefix-LM example of " + inputs.length + " input and " + targets.length + " target tokens does not fit seqLen " + seqLen);
        }
        int[] tokens = new int[seqLen];
        int[] labels = new int[seqLen];
        java.util.Arrays.fill(tokens, padId);
        java.util.Arrays.fill(labels, CrossEntropy.IGNORE);
        System.arraycopy(inputs, 0, tokens, 0, inputs.length);
        System.arraycopy(targets, 0, tokens, inputs.length, targets.length);
        for (int p = inputs.length - 1; p < total - 1; p++) labels[p] = tokens[p + 1];
        return new PrefixLmExample(tokens, labels, inputs.length);
    }
}
