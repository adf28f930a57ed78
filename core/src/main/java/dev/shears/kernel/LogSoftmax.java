package dev.shears.kernel;

/** Log-probabilities from logits, accumulated in double for stable scoring. */
public final class LogSoftmax {
    private LogSoftmax() {
    }

    /**
     * {@code log softmax(logits[row])[target]}.
     *
     * @param logits [rows, vocabSize]
     */
    public static double logProbability(float[] logits, int row, int vocabSize, int target) {
        int o = row * vocabSize;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocabSize; i++) max = Math.max(max, logits[o + i]);
        double sum = 0;
        for (int i = 0; i < vocabSize; i++) sum += Math.exp(logits[o + i] - max);
        return logits[o + target] - max - Math.log(sum);
    }

    /** The index of the largest logit of a row (the first one on ties). */
    public static int argmax(float[] logits, int row, int vocabSize) {
        int o = row * vocabSize;
        int best = 0;
        for (int i = 1; i < vocabSize; i++) if (logits[o + i] > logits[o + best]) best = i;
        return best;
    }
}
