package dev.shears.kernel;

import dev.shears.tensor.Parallel;

/**
 * Softmax cross-entropy over the vocabulary, fused with its gradient, as
 * {@code torch.nn.functional.cross_entropy(logits, targets, ignore_index=-1)} with mean reduction.
 */
public final class CrossEntropy {
    /** Targets with this value are not scored. */
    public static final int IGNORE = -1;

    private CrossEntropy() {
    }

    /**
     * Mean loss over the scored rows; when {@code dLogits} is given its rows receive
     * {@code (softmax − onehot) · scale / scored} (overwritten; ignored rows become 0).
     *
     * @param logits  [rows, vocabSize]
     * @param targets [rows], or {@link #IGNORE}
     * @param dLogits [rows, vocabSize] or an empty array for loss only
     * @param scale   multiplies the gradient (e.g. 1 / gradient-accumulation steps)
     * @return the mean negative log-likelihood in nats
     */
    public static double forwardBackward(float[] logits, int[] targets, int rows, int vocabSize, float[] dLogits, float scale) {
        int scored = 0;
        for (int r = 0; r < rows; r++) if (targets[r] != IGNORE) scored++;
        if (scored == 0) return 0;
        double[] rowLoss = new double[rows];
        boolean gradient = dLogits.length > 0;
        float norm = scale / scored;
        Parallel.forEach(rows, r -> {
            int o = r * vocabSize;
            int target = targets[r];
            if (target == IGNORE) {
                if (gradient) java.util.Arrays.fill(dLogits, o, o + vocabSize, 0f);
                return;
            }
            float max = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < vocabSize; i++) max = Math.max(max, logits[o + i]);
            double sum = 0;
            for (int i = 0; i < vocabSize; i++) sum += Math.exp(logits[o + i] - max);
            double logSum = Math.log(sum) + max;
            rowLoss[r] = logSum - logits[o + target];
            if (gradient) {
                for (int i = 0; i < vocabSize; i++) {
                    dLogits[o + i] = (float) Math.exp(logits[o + i] - logSum) * norm;
                }
                dLogits[o + target] -= norm;
            }
        });
        double total = 0;
        for (double l : rowLoss) total += l;
        return total / scored;
    }
}
