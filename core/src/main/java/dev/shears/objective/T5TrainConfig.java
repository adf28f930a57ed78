package dev.shears.objective;

import dev.shears.ShearsException;
import dev.shears.train.AdamWConfig;
import dev.shears.train.LearningRateSchedule;

/**
 * How {@link Seq2SeqTrainer} trains an encoder–decoder (a T5 through {@link T5Training}, an OpenBA through
 * {@link OpenBaTraining}) on a mixture of denoisers.
 *
 * @param batchSize          examples per micro-batch
 * @param microBatches       micro-batches per optimizer step (gradient accumulation)
 * @param schedule           the learning rate of each step
 * @param adamW              the optimizer's hyper-parameters
 * @param maxGradNorm        global-norm clipping threshold (0: no clipping)
 * @param evalInterval       steps between held-out evaluations (0: none)
 * @param evalBatches        held-out batches of {@code batchSize} per denoiser, drawn once and measured at every evaluation
 * @param dynamic            re-weight the mixture at every evaluation with Dynamic-UL2 ({@link DynamicUl2#published})
 * @param referenceLosses    Dynamic-UL2's ℓ_ref per denoiser; empty: the held-out losses of the model before its first step
 * @param checkpointInterval steps between checkpoints (0: only at the end of {@link Seq2SeqTrainer#run})
 * @param keepCheckpoints    the newest checkpoints kept; older ones are deleted once a new one is in place
 */
public record T5TrainConfig(int batchSize, int microBatches, LearningRateSchedule schedule, AdamWConfig adamW, double maxGradNorm,
                            int evalInterval, int evalBatches, boolean dynamic, double[] referenceLosses, int checkpointInterval,
                            int keepCheckpoints) {
    public T5TrainConfig {
        referenceLosses = referenceLosses.clone();
        if (batchSize < 1 || microBatches < 1) throw new ShearsException("batchSize and microBatches must be ≥ 1, got " + batchSize + " and " + microBatches);
        if (!(maxGradNorm >= 0)) throw new ShearsException("maxGradNorm must be ≥ 0, got " + maxGradNorm);
        if (evalInterval < 0 || evalBatches < 1) throw new ShearsException("evalInterval must be ≥ 0 and evalBatches ≥ 1, got " + evalInterval + " and " + evalBatches);
        if (dynamic && evalInterval == 0) throw new ShearsException("Dynamic-UL2 updates the mixture at evaluations; set evalInterval > 0");
        if (checkpointInterval < 0) throw new ShearsException("checkpointInterval must be ≥ 0, got " + checkpointInterval);
        if (keepCheckpoints < 1) throw new ShearsException("keepCheckpoints must be ≥ 1, got " + keepCheckpoints);
    }

    @Override
    public double[] referenceLosses() {
        return referenceLosses.clone();
    }
}
