package dev.shears.objective;

import dev.shears.ShearsException;
import dev.shears.kernel.CrossEntropy;
import dev.shears.seq2seq.T5;
import dev.shears.seq2seq.T5Model;
import dev.shears.seq2seq.T5Pass;
import dev.shears.seq2seq.T5Weights;
import dev.shears.train.GradientClipping;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Continued pretraining of a T5 on a mixture of denoisers (UL2, Tay et al. 2022), optionally re-weighted by
 * Dynamic-UL2 (OpenBA-V2, Qiao et al. 2024). One step: for each of {@code microBatches} micro-batches, in
 * order, the next batch of the training {@link DenoisingBatcher}, {@link T5#forward} (encoder padding
 * masked), {@link T5#loss} with the logits' gradient scaled by 1/microBatches, and {@link T5#backward}
 * accumulating into one gradient buffer; then global-norm clipping and {@link T5AdamW} at the scheduled
 * learning rate. No dropout (T5's forward is eval-mode).
 *
 * <p>Every {@code evalInterval} steps each denoiser's loss is measured on its own held-out batches: drawn
 * once, when the trainer is built, from a held-out batcher (a seeded draw over data never trained on) with
 * that denoiser alone (one-hot weights), as OpenBA-V2's {@code evaluate_dynamic_batch_loading} measures each
 * denoiser alone. With {@code dynamic}, {@link DynamicUl2#update} then moves the training batcher's weights.
 *
 * <p>A step depends only on the weights, the moments, the step number and the batcher's state (seed,
 * examples drawn, weights), all of which a checkpoint holds ({@link T5Checkpoint}), so a run resumed from
 * step k ends with the bits of the uninterrupted run.
 *
 * <p>Labels: the batcher pads targets with {@link CrossEntropy#IGNORE} (-1), Shears' ignore label; {@link T5}
 * takes Hugging Face's -100 ({@link T5#IGNORE_LABEL}), so {@link #labels} converts at this boundary.
 */
public final class T5Trainer {
    /** What one step did: its mean loss over micro-batches, the learning rate, the norm before clipping and the scored target tokens. */
    public record StepResult(long step, double loss, double lr, double gradNorm, long tokens) {
    }

    /** An evaluation after {@code step} steps: held-out loss per denoiser and the mixture weights in force afterwards. */
    public record Evaluation(long step, double[] losses, double[] weights) {
    }

    /** Receives each step and each evaluation of {@link #run}. */
    public interface Listener {
        void step(StepResult result);

        void evaluation(Evaluation evaluation);
    }

    private final T5Model model;
    private final DenoisingBatcher batcher;
    private final T5TrainConfig config;
    private final T5AdamW optimizer;
    private final T5Weights grads;
    private final List<List<DenoisingBatcher.Batch>> heldOut;
    private double[] referenceLosses;
    private long step;

    /**
     * @param batcher the training batches (advanced by every step)
     * @param heldOut a batcher over held-out data; its weights are set to each denoiser in turn to draw that
     *                denoiser's {@code evalBatches} fixed batches, here, once
     */
    public T5Trainer(T5Model model, DenoisingBatcher batcher, DenoisingBatcher heldOut, T5TrainConfig config) {
        int denoisers = batcher.mixture().denoisers().size();
        if (config.referenceLosses().length != 0 && config.referenceLosses().length != denoisers) {
            throw new ShearsException(config.referenceLosses().length + " reference losses for a mixture of " + denoisers + " denoisers");
        }
        this.model = model;
        this.batcher = batcher;
        this.config = config;
        this.optimizer = new T5AdamW(model.config(), config.adamW());
        this.grads = T5Weights.zeros(model.config());
        this.referenceLosses = config.referenceLosses();
        this.heldOut = new ArrayList<>();
        for (int d = 0; d < denoisers; d++) {
            double[] oneHot = new double[denoisers];
            oneHot[d] = 1;
            heldOut.weights(oneHot);
            List<DenoisingBatcher.Batch> batches = new ArrayList<>();
            for (int b = 0; b < config.evalBatches(); b++) batches.add(heldOut.next(config.batchSize()));
            this.heldOut.add(batches);
        }
    }

    /** Optimizer steps completed. */
    public long steps() {
        return step;
    }

    public T5Model model() {
        return model;
    }

    public DenoisingBatcher batcher() {
        return batcher;
    }

    T5AdamW optimizer() {
        return optimizer;
    }

    /** Dynamic-UL2's reference losses (empty until measured, when the config gave none). */
    double[] referenceLosses() {
        return referenceLosses.clone();
    }

    /** Puts back what a checkpoint holds beyond the weights and moments. */
    void restore(long steps, double[] references) {
        this.step = steps;
        this.referenceLosses = references.clone();
    }

    /** One optimizer step. */
    public StepResult step() {
        double lr = config.schedule().at(step);
        int micro = config.microBatches();
        float share = 1f / micro;
        double loss = 0;
        long tokens = 0;
        for (int i = 0; i < micro; i++) {
            DenoisingBatcher.Batch batch = batcher.next(config.batchSize());
            T5Pass pass = forward(batch);
            int[] labels = labels(batch.targets());
            float[] dLogits = new float[pass.logits().length];
            loss += T5.loss(pass, labels, dLogits);
            if (micro > 1) for (int j = 0; j < dLogits.length; j++) dLogits[j] *= share;
            T5.backward(model, pass, dLogits, grads);
            for (int n : batch.targetLengths()) tokens += n;
        }
        double norm = GradientClipping.globalNorm(T5AdamW.tensors(model.config(), grads));
        optimizer.update(model.weights(), grads, lr, GradientClipping.scale(norm, config.maxGradNorm()));
        step++;
        return new StepResult(step, loss / micro, lr, norm, tokens);
    }

    /** Each denoiser's mean token loss on its held-out batches. */
    public double[] heldOutLosses() {
        double[] losses = new double[heldOut.size()];
        for (int d = 0; d < losses.length; d++) {
            double sum = 0;
            long count = 0;
            for (DenoisingBatcher.Batch batch : heldOut.get(d)) {
                long scored = 0;
                for (int n : batch.targetLengths()) scored += n;
                sum += T5.loss(forward(batch), labels(batch.targets()), new float[0]) * scored;
                count += scored;
            }
            losses[d] = sum / count;
        }
        return losses;
    }

    /**
     * Measures the held-out losses and, with {@code dynamic}, re-weights the training mixture toward the denoisers
     * whose loss exceeds its reference most (the first evaluation of a run without reference losses sets them).
     */
    public Evaluation evaluate() {
        double[] losses = heldOutLosses();
        if (config.dynamic()) {
            if (referenceLosses.length == 0) referenceLosses = losses.clone();
            batcher.weights(DynamicUl2.published(referenceLosses).update(batcher.weights(), losses));
        }
        return new Evaluation(step, losses, batcher.weights());
    }

    /**
     * Trains until {@code totalSteps} steps are done: evaluating before the first step of a run (when it evaluates at all)
     * and after every {@code evalInterval} steps, and writing a checkpoint under {@code runDir} every
     * {@code checkpointInterval} steps and at the end (keeping the newest {@code keepCheckpoints}).
     */
    public void run(long totalSteps, Path runDir, Listener listener) {
        if (config.evalInterval() > 0 && step == 0) listener.evaluation(evaluate());
        while (step < totalSteps) {
            listener.step(step());
            if (config.evalInterval() > 0 && step % config.evalInterval() == 0) listener.evaluation(evaluate());
            if (step == totalSteps || config.checkpointInterval() > 0 && step % config.checkpointInterval() == 0) T5Checkpoint.save(runDir, this, config.keepCheckpoints());
        }
    }

    private T5Pass forward(DenoisingBatcher.Batch batch) {
        int b = batch.inputLengths().length;
        int srcLen = batch.inputs().length / b, tgtLen = batch.targets().length / b;
        int[] mask = new int[batch.inputs().length];
        for (int e = 0; e < b; e++) java.util.Arrays.fill(mask, e * srcLen, e * srcLen + batch.inputLengths()[e], 1);
        return T5.forward(model, batch.inputs(), mask, labels(batch.targets()), b, srcLen, tgtLen);
    }

    /** The batcher's targets with {@link CrossEntropy#IGNORE} (-1) turned into {@link T5#IGNORE_LABEL} (-100). */
    static int[] labels(int[] targets) {
        int[] labels = targets.clone();
        for (int i = 0; i < labels.length; i++) if (labels[i] == CrossEntropy.IGNORE) labels[i] = T5.IGNORE_LABEL;
        return labels;
    }
}
