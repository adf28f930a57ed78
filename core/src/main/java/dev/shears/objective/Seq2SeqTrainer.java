package dev.shears.objective;

import dev.shears.ShearsException;
import dev.shears.dist.Collective;
import dev.shears.dist.OrderedSum;
import dev.shears.dist.SingleProcess;
import dev.shears.kernel.CrossEntropy;
import dev.shears.train.GradientClipping;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Continued pretraining of an encoder–decoder (T5: {@link T5Training}; OpenBA: {@link OpenBaTraining}) on a mixture
 * of denoisers (UL2, Tay et al. 2022), optionally re-weighted by Dynamic-UL2 (OpenBA-V2, Qiao et al. 2024). One
 * step: for each of {@code microBatches} micro-batches, in order, the next batch of the training
 * {@link DenoisingBatcher} through the model's forward, loss (the logits' gradient scaled by 1/microBatches) and
 * backward ({@link TrainableEncoderDecoder#accumulate}) from a zeroed gradient, the micro-batches' gradients added in
 * order, {@code ((g₀ + g₁) + g₂) + …} in float; then global-norm clipping and {@link TensorAdamW} at the scheduled
 * learning rate. No dropout (the forwards are eval-mode).
 *
 * <p>Over the ranks of a {@link Collective} (as decoder-only training's {@code StepGradients}): every rank draws every
 * micro-batch (so the batcher's state does not depend on the number of ranks) and runs forward and backward on its
 * contiguous share ({@link OrderedSum#first}); the rank holding micro-batch 0 adds its gradients as they come, a later
 * rank keeps each of its own until the running sum reaches it along the ranks ({@link OrderedSum#sumContinuing}), and
 * the micro-batches' losses are gathered and added in order. The held-out batches are shared the same way, their losses
 * gathered in order. So the losses, weights, moments and checkpoints are the same bits for any number of ranks, one
 * process included.
 *
 * <p>Every {@code evalInterval} steps each denoiser's loss is measured on its own held-out batches: drawn
 * once, when the trainer is built, from the steering held-out batcher (data never trained on) with
 * that denoiser alone (one-hot weights), as OpenBA-V2's {@code evaluate_dynamic_batch_loading} measures each
 * denoiser alone. With {@code dynamic}, {@link DynamicUl2#update} then moves the training batcher's weights. The loss a
 * run reports at its end ({@link #heldOutLosses()}) is measured the same way on other held-out batches, which steered
 * nothing, as a decoder-only run keeps its {@link dev.shears.data.HeldOutPart} halves apart.
 *
 * <p>A step depends only on the weights, the moments, the step number and the batcher's state (seed,
 * examples drawn, weights), all of which a checkpoint holds, so a run resumed from
 * step k ends with the bits of the uninterrupted run ({@link Seq2SeqCheckpoint}).
 */
public class Seq2SeqTrainer {
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

    private final TrainableEncoderDecoder model;
    private final DenoisingBatcher batcher;
    private final T5TrainConfig config;
    private final TensorAdamW optimizer;
    private final List<float[]> params;
    private final List<float[]> grads;
    /** Per denoiser, the held-out batches the evaluations during the run measure (and Dynamic-UL2 re-weights by). */
    private final List<List<DenoisingBatcher.Batch>> steering;
    /** Per denoiser, the held-out batches the final loss is measured on: never seen by Dynamic-UL2. */
    private final List<List<DenoisingBatcher.Batch>> reported;
    private final Collective collective;
    /** On the rank holding micro-batch 0: the sum of the step's micro-batches so far, while the next one's gradient starts from zero. */
    private List<float[]> running;
    /** On a later rank: its micro-batches' gradients, kept until the running sum reaches it. */
    private final List<List<float[]>> kept = new ArrayList<>();
    private double[] referenceLosses;
    private long step;

    /**
     * @param batcher  the training batches (advanced by every step)
     * @param steering a batcher over the held-out data the evaluations during the run read; its weights are set to each
     *                 denoiser in turn to draw that denoiser's {@code evalBatches} fixed batches, here, once
     * @param reported the same over other held-out data, for the final loss ({@link #heldOutLosses()})
     */
    public Seq2SeqTrainer(TrainableEncoderDecoder model, DenoisingBatcher batcher, DenoisingBatcher steering, DenoisingBatcher reported,
                          T5TrainConfig config) {
        this(model, batcher, steering, reported, config, new SingleProcess());
    }

    /** As {@link #Seq2SeqTrainer(TrainableEncoderDecoder, DenoisingBatcher, DenoisingBatcher, DenoisingBatcher, T5TrainConfig)}, one of the ranks of {@code collective}. */
    public Seq2SeqTrainer(TrainableEncoderDecoder model, DenoisingBatcher batcher, DenoisingBatcher steering, DenoisingBatcher reported,
                          T5TrainConfig config, Collective collective) {
        this.collective = collective;
        int denoisers = batcher.mixture().denoisers().size();
        if (config.referenceLosses().length != 0 && config.referenceLosses().length != denoisers) {
            throw new ShearsException(config.referenceLosses().length + " reference losses for a mixture of " + denoisers + " denoisers");
        }
        this.model = model;
        this.batcher = batcher;
        this.config = config;
        this.optimizer = new TensorAdamW(model::forEachWeight, config.adamW());
        this.params = TensorAdamW.tensors(model::forEachWeight);
        this.grads = TensorAdamW.tensors(model::forEachGradient);
        this.referenceLosses = config.referenceLosses();
        this.steering = fixedBatches(steering, denoisers, config);
        this.reported = fixedBatches(reported, denoisers, config);
    }

    /** Each denoiser's {@code evalBatches} batches of {@code heldOut}, drawn once. */
    private static List<List<DenoisingBatcher.Batch>> fixedBatches(DenoisingBatcher heldOut, int denoisers, T5TrainConfig config) {
        List<List<DenoisingBatcher.Batch>> out = new ArrayList<>();
        for (int d = 0; d < denoisers; d++) {
            double[] oneHot = new double[denoisers];
            oneHot[d] = 1;
            heldOut.weights(oneHot);
            List<DenoisingBatcher.Batch> batches = new ArrayList<>();
            for (int b = 0; b < config.evalBatches(); b++) batches.add(heldOut.next(config.batchSize()));
            out.add(batches);
        }
        return out;
    }

    /** Optimizer steps completed. */
    public long steps() {
        return step;
    }

    /** The model being trained, with its gradient buffer. */
    public TrainableEncoderDecoder trainable() {
        return model;
    }

    public DenoisingBatcher batcher() {
        return batcher;
    }

    TensorAdamW optimizer() {
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

    /** One optimizer step. The gradient buffer is zero when it starts ({@link TensorAdamW#update} clears it). */
    public StepResult step() {
        double lr = config.schedule().at(step);
        int micro = config.microBatches();
        int first = OrderedSum.first(micro, collective.rank(), collective.size());
        int end = OrderedSum.first(micro, collective.rank() + 1, collective.size());
        boolean holdsFirst = first == 0 && end > 0;
        float share = 1f / micro;
        double[] losses = new double[end - first];
        long tokens = 0;
        for (int i = 0; i < micro; i++) {
            DenoisingBatcher.Batch batch = batcher.next(config.batchSize());
            for (int n : batch.targetLengths()) tokens += n;
            if (i < first || i >= end) continue;
            if (holdsFirst && i > first) {
                // the running sum waits aside while micro-batch i's gradient starts from zero, then takes it: running + g_i
                running = copy(grads, running);
                zero(grads);
                losses[i - first] = model.accumulate(batch, share);
                for (int t = 0; t < grads.size(); t++) {
                    float[] g = grads.get(t), r = running.get(t);
                    for (int j = 0; j < g.length; j++) g[j] = r[j] + g[j];
                }
            } else {
                if (i > first) zero(grads);
                losses[i - first] = model.accumulate(batch, share);
                if (!holdsFirst) {
                    if (kept.size() <= i - first) kept.add(null);
                    kept.set(i - first, copy(grads, kept.get(i - first)));
                }
            }
        }
        if (collective.size() > 1) {
            for (int t = 0; t < grads.size(); t++) {
                List<float[]> mine = new ArrayList<>();
                if (!holdsFirst) for (int k = 0; k < end - first; k++) mine.add(kept.get(k).get(t));
                OrderedSum.sumContinuing(collective, micro, mine, grads.get(t));
            }
        }
        double loss = 0;
        for (double l : OrderedSum.gather(collective, micro, losses)) loss += l;
        double norm = GradientClipping.globalNorm(grads);
        optimizer.update(params, grads, lr, GradientClipping.scale(norm, config.maxGradNorm()));
        model.stepDone(step);
        step++;
        return new StepResult(step, loss / micro, lr, norm, tokens);
    }

    /**
     * Each denoiser's mean token loss on the reported held-out batches (never seen by Dynamic-UL2). The ranks share the
     * batches (every denoiser's, in order) and gather each batch's summed loss in that order: the same bits for any number of ranks.
     */
    public double[] heldOutLosses() {
        return losses(model, reported);
    }

    /**
     * Each denoiser's mean token loss of {@code other} (another model on the same vocabulary, e.g. a pruned child) on the
     * held-out batches, shared over the ranks as {@link #heldOutLosses()}.
     */
    public double[] heldOutLosses(TrainableEncoderDecoder other) {
        return losses(other, reported);
    }

    /** Each denoiser's mean token loss of {@code model} on {@code heldOut}'s batches, shared over the ranks. */
    private double[] losses(TrainableEncoderDecoder model, List<List<DenoisingBatcher.Batch>> heldOut) {
        List<DenoisingBatcher.Batch> all = heldOut.stream().flatMap(List::stream).toList();
        int n = all.size();
        int first = OrderedSum.first(n, collective.rank(), collective.size());
        double[] mine = new double[OrderedSum.first(n, collective.rank() + 1, collective.size()) - first];
        for (int i = 0; i < mine.length; i++) mine[i] = model.loss(all.get(first + i)) * scored(all.get(first + i));
        double[] summed = OrderedSum.gather(collective, n, mine);
        double[] losses = new double[heldOut.size()];
        int at = 0;
        for (int d = 0; d < losses.length; d++) {
            double sum = 0;
            long count = 0;
            for (DenoisingBatcher.Batch batch : heldOut.get(d)) {
                sum += summed[at++];
                count += scored(batch);
            }
            losses[d] = sum / count;
        }
        return losses;
    }

    /** The target tokens a batch scores. */
    private static long scored(DenoisingBatcher.Batch batch) {
        long scored = 0;
        for (int n : batch.targetLengths()) scored += n;
        return scored;
    }

    /** {@code into} (allocated when null) holding a copy of every tensor of {@code from}. */
    private static List<float[]> copy(List<float[]> from, List<float[]> into) {
        List<float[]> out = into != null ? into : from.stream().map(t -> new float[t.length]).toList();
        for (int t = 0; t < from.size(); t++) System.arraycopy(from.get(t), 0, out.get(t), 0, from.get(t).length);
        return out;
    }

    private static void zero(List<float[]> tensors) {
        for (float[] t : tensors) Arrays.fill(t, 0f);
    }

    /**
     * Measures the steering held-out losses and, with {@code dynamic}, re-weights the training mixture toward the denoisers
     * whose loss exceeds its reference most (the first evaluation of a run without reference losses sets them).
     */
    public Evaluation evaluate() {
        double[] losses = losses(model, steering);
        if (config.dynamic()) {
            if (referenceLosses.length == 0) referenceLosses = losses.clone();
            batcher.weights(DynamicUl2.published(referenceLosses).update(batcher.weights(), losses));
        }
        return new Evaluation(step, losses, batcher.weights());
    }

    /**
     * Trains until {@code totalSteps} steps are done: evaluating before the first step of a run (when it evaluates at all)
     * and after every {@code evalInterval} steps, and writing a checkpoint under {@code runDir} every
     * {@code checkpointInterval} steps and at the end (keeping the newest {@code keepCheckpoints}; rank 0 alone writes).
     */
    public void run(long totalSteps, Path runDir, Listener listener) {
        if (config.evalInterval() > 0 && step == 0) listener.evaluation(evaluate());
        while (step < totalSteps) {
            listener.step(step());
            if (config.evalInterval() > 0 && step % config.evalInterval() == 0) listener.evaluation(evaluate());
            boolean due = step == totalSteps || config.checkpointInterval() > 0 && step % config.checkpointInterval() == 0;
            if (due && collective.leads()) Seq2SeqCheckpoint.save(runDir, this, config.keepCheckpoints()); // every rank holds the same state: rank 0 writes it
        }
    }

    /** The batcher's targets with {@link CrossEntropy#IGNORE} (-1) turned into Hugging Face's ignored label {@code ignore}. */
    static int[] labels(int[] targets, int ignore) {
        int[] labels = targets.clone();
        for (int i = 0; i < labels.length; i++) if (labels[i] == CrossEntropy.IGNORE) labels[i] = ignore;
        return labels;
    }

    /** [batch, inputLength]: 1 over each example's {@code inputLengths} real tokens, 0 over the padding after them. */
    static int[] attentionMask(DenoisingBatcher.Batch batch) {
        int b = batch.inputLengths().length;
        int srcLen = batch.inputs().length / b;
        int[] mask = new int[batch.inputs().length];
        for (int e = 0; e < b; e++) java.util.Arrays.fill(mask, e * srcLen, e * srcLen + batch.inputLengths()[e], 1);
        return mask;
    }
}
