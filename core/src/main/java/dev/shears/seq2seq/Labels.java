package dev.shears.seq2seq;

import dev.shears.kernel.CrossEntropy;

/**
 * Hugging Face's labels of an encoder–decoder under teacher forcing, the same for T5 and OpenBA: checked against
 * the inputs and the vocabulary, shifted right into the decoder's inputs ({@code _shift_right}), and scored by the
 * mean cross-entropy.
 */
final class Labels {
    /** The label that is not scored (and becomes pad_token_id in the decoder input). */
    static final int IGNORE = -100;

    private Labels() {
    }

    /** {@code inputIds} [batch, srcLen] and {@code labels} [batch, tgtLen], both lengths ≥ 1. */
    static void checkShape(int[] inputIds, int[] labels, int batch, int srcLen, int tgtLen) {
        if (inputIds.length != batch * srcLen || labels.length != batch * tgtLen || srcLen <= 0 || tgtLen <= 0) {
            throw new IllegalArgumentException(inputIds.length + " input ids and " + labels.length + " labels for batch " + batch
                    + " × srcLen " + srcLen + " and tgtLen " + tgtLen);
        }
    }

    /** Every label is {@link #IGNORE} or a token id of the vocabulary. */
    static void checkIds(int[] labels, int vocabSize) {
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] != IGNORE && (labels[i] < 0 || labels[i] >= vocabSize)) {
                throw new IllegalArgumentException("label " + labels[i] + " at " + i + " is neither -100 nor in the vocabulary [0, " + vocabSize + ")");
            }
        }
    }

    /** [batch·tgtLen]: {@code [decoderStart, labels[0 .. tgtLen-2]]} per sequence, -100 replaced by {@code pad}. */
    static int[] shiftRight(int[] labels, int batch, int tgtLen, int decoderStart, int pad) {
        int[] ids = new int[batch * tgtLen];
        for (int b = 0; b < batch; b++) {
            ids[b * tgtLen] = decoderStart;
            for (int t = 1; t < tgtLen; t++) {
                int label = labels[b * tgtLen + t - 1];
                ids[b * tgtLen + t] = label == IGNORE ? pad : label;
            }
        }
        return ids;
    }

    /**
     * Mean cross-entropy of the pass's logits over the labels that are not {@link #IGNORE} (0 when none is
     * scored), as {@code nn.CrossEntropyLoss(ignore_index=-100)}.
     *
     * @param labels  [batch·tgtLen]
     * @param dLogits [batch·tgtLen, vocabSize] receives d loss / d logits (overwritten), or an empty array for the loss only
     */
    static double loss(EncoderDecoderPass p, int[] labels, float[] dLogits) {
        if (labels.length != p.batch * p.tgtLen) throw new IllegalArgumentException(labels.length + " labels for " + p.batch * p.tgtLen + " decoder positions");
        int[] targets = new int[labels.length];
        for (int i = 0; i < labels.length; i++) targets[i] = labels[i] == IGNORE ? CrossEntropy.IGNORE : labels[i];
        return CrossEntropy.forwardBackward(p.logits, targets, labels.length, p.logits.length / labels.length, dLogits, 1f);
    }
}
