package dev.shears.kernel;

import dev.shears.tensor.Parallel;

/**
 * Knowledge distillation loss (Hinton et al. 2015) fused with its gradient: per scored row,
 * {@code T²·KL(softmax(teacher/T) ‖ softmax(student/T))}, averaged over the rows whose target is not
 * {@link CrossEntropy#IGNORE}, as {@code T² · torch.nn.functional.kl_div(log_softmax(s/T), softmax(t/T), reduction="batchmean")}.
 * The gradient with respect to the student's logits is {@code T·(softmax(s/T) − softmax(t/T))}.
 */
public final class Distillation {
    private Distillation() {
    }

    /**
     * @param student     [rows, vocabSize]
     * @param teacher     [rows, vocabSize]
     * @param targets     [rows]: rows with {@link CrossEntropy#IGNORE} are skipped
     * @param dStudent    [rows, vocabSize], accumulated into ({@code += gradient · scale / scored}); empty for loss only
     * @param temperature T &gt; 0
     * @return the mean distillation loss in nats (times T²)
     */
    public static double forwardBackward(float[] student, float[] teacher, int[] targets, int rows, int vocabSize, float[] dStudent,
                                         float scale, double temperature) {
        int scored = 0;
        for (int r = 0; r < rows; r++) if (targets[r] != CrossEntropy.IGNORE) scored++;
        if (scored == 0) return 0;
        double[] rowLoss = new double[rows];
        boolean gradient = dStudent.length > 0;
        double invT = 1 / temperature;
        double norm = scale / (double) scored;
        Parallel.forEach(rows, r -> {
            if (targets[r] == CrossEntropy.IGNORE) return;
            int o = r * vocabSize;
            double sMax = Double.NEGATIVE_INFINITY, tMax = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < vocabSize; i++) {
                sMax = Math.max(sMax, student[o + i] * invT);
                tMax = Math.max(tMax, teacher[o + i] * invT);
            }
            double sSum = 0, tSum = 0;
            for (int i = 0; i < vocabSize; i++) {
                sSum += Math.exp(student[o + i] * invT - sMax);
                tSum += Math.exp(teacher[o + i] * invT - tMax);
            }
            double sLog = sMax + Math.log(sSum), tLog = tMax + Math.log(tSum);
            double kl = 0;
            for (int i = 0; i < vocabSize; i++) {
                double logP = teacher[o + i] * invT - tLog;
                double logQ = student[o + i] * invT - sLog;
                double p = Math.exp(logP);
                kl += p * (logP - logQ);
                if (gradient) dStudent[o + i] += (float) (temperature * (Math.exp(logQ) - p) * norm);
            }
            rowLoss[r] = temperature * temperature * kl;
        });
        double total = 0;
        for (double l : rowLoss) total += l;
        return total / scored;
    }
}
