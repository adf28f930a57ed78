package dev.shears.train;

import dev.shears.data.BatchSampler;
import dev.shears.data.HeldOutPart;
import dev.shears.data.Split;
import dev.shears.data.TokenDataset;
import dev.shears.dist.Collective;
import dev.shears.dist.OrderedSum;
import dev.shears.dist.SingleProcess;
import dev.shears.kernel.CrossEntropy;
import dev.shears.kernel.Distillation;
import dev.shears.model.Activations;
import dev.shears.model.MaskSet;
import dev.shears.model.Model;
import dev.shears.model.ModelWeights;
import dev.shears.model.Transformer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One optimizer step at a time: gradient accumulation over micro-batches, global-norm clipping,
 * scheduled learning rate, AdamW. Buffers (activations, gradients, moments) are allocated once.
 * The result of a step depends only on the weights, the optimizer state, the step number, the domain
 * weights and the sampler's data cursor (checkpointed), so a resumed run is bit-identical to an
 * uninterrupted one.
 *
 * <p>Micro-batch gradients are added in one fixed order ({@link StepGradients}): {@code ((g₀ + g₁) + g₂) + …}
 * in float. Under {@code mpirun} ({@link Collective} of N ranks) each rank draws every micro-batch of the step
 * from the same sampler (its data cursor stays the same on every rank) but runs forward and backward only on
 * its contiguous share of them ({@link OrderedSum#first}; uneven when N does not divide {@code gradAccumulation},
 * and a rank may have none when N exceeds it); the gradients are added along the ranks in micro-batch order
 * ({@link OrderedSum#sum}) and the losses gathered and added in the same order. <b>Guarantee:</b> the gradients, the loss, the gradient norm and so
 * the updated weights and optimizer state are bit-identical for any number of ranks, single-process
 * included, at the same {@code batchSize} and {@code gradAccumulation}, and the same on every rank.
 * With learned masks ({@link MicroBatchGates}) the gate gradient is shared the same way: each
 * micro-batch's share apart, added in micro-batch order, the same bits on every rank.
 */
public final class Trainer {
    /** What one step did. */
    public record StepResult(long step, double loss, double lr, double gradNorm, long tokens, double seconds) {
    }

    private final Model model;
    private final BatchSampler sampler;
    private final TrainConfig config;
    private final LearningRateSchedule schedule;
    private final AdamW optimizer;
    private final Activations activations;
    private final ModelWeights grads;
    private final int[] tokens;
    private final int[] targets;
    private final Model teacher;
    private final Activations teacherActivations;
    private final Collective collective;
    private final StepGradients gradients;

    public Trainer(Model model, BatchSampler sampler, TrainConfig config) {
        this(model, null, sampler, config);
    }

    /** @param teacher a teacher for distillation (config.distill()), or null */
    public Trainer(Model model, Model teacher, BatchSampler sampler, TrainConfig config) {
        this(model, teacher, sampler, config, new SingleProcess());
    }

    /**
     * @param teacher    a teacher for distillation (config.distill()), or null
     * @param collective the ranks sharing each step's micro-batches (every rank constructs its trainer alike)
     */
    public Trainer(Model model, Model teacher, BatchSampler sampler, TrainConfig config, Collective collective) {
        this.collective = collective;
        this.model = model;
        this.sampler = sampler;
        this.config = config;
        this.schedule = config.learningRate();
        this.optimizer = new AdamW(model.config(), config.optimiser().adamW());
        this.activations = Activations.forTraining(model.config(), config.batching().batchSize(), config.batching().seqLen());
        this.grads = ModelWeights.zeros(model.config());
        this.gradients = new StepGradients(model.config(), grads, config.batching().gradAccumulation(), collective);
        this.tokens = new int[config.batching().batchSize() * config.batching().seqLen()];
        this.targets = new int[tokens.length];
        this.teacher = teacher;
        this.teacherActivations = teacher == null ? null : Activations.forInference(teacher.config(), config.batching().batchSize(), config.batching().seqLen());
    }

    public Model model() {
        return model;
    }

    public AdamW optimizer() {
        return optimizer;
    }

    /** Runs optimizer step {@code step} (0-based) with the given domain sampling weights. */
    public StepResult step(long step, double[] domainWeights) {
        return step(step, domainWeights, MicroBatchGates.NONE);
    }

    /**
     * Runs optimizer step {@code step} of the model under gates (learned masks): every micro-batch runs with
     * its own sample of {@code gates}, whose gradient (of the step's mean loss) the backward accumulates into
     * {@code gates.gradients()}. Only the model weights are updated here.
     */
    public StepResult step(long step, double[] domainWeights, MicroBatchGates gates) {
        long start = System.nanoTime();
        int accumulation = config.batching().gradAccumulation();
        int ranks = collective.size();
        int first = gradients.first(), end = gradients.end();
        // gradients are zero here: allocated so, and cleared by the previous update
        double[] losses = new double[end - first];
        List<double[]> ownGates = new ArrayList<>();
        double[] dGates = gates.accumulated();
        for (int micro = 0; micro < accumulation; micro++) {
            // every rank draws every micro-batch, so the sampler's data cursor is the same on all of them
            sampler.sample(step, micro, domainWeights, config.batching().batchSize(), tokens, targets);
            if (micro < first || micro >= end) continue;
            ModelWeights into = gradients.into(micro);
            if (ranks > 1) Arrays.fill(dGates, 0);
            losses[micro - first] = microBatch(micro, gates, into);
            gradients.done(micro, into);
            if (ranks > 1) ownGates.add(dGates.clone());
        }
        gradients.reduce();
        double loss = 0;
        if (ranks == 1) {
            for (int micro = 0; micro < accumulation; micro++) loss += losses[micro];
        } else {
            if (dGates.length > 0) OrderedSum.sumDoubles(collective, accumulation, ownGates, dGates);
            for (double l : OrderedSum.gather(collective, accumulation, losses)) loss += l;
        }
        double norm = GradientClipping.globalNorm(grads);
        double lr = schedule.at(step);
        optimizer.update(model.weights(), grads, lr, GradientClipping.scale(norm, config.optimiser().gradClip()), true);
        return new StepResult(step, loss, lr, norm, config.tokensPerStep(), (System.nanoTime() - start) / 1e9);
    }

    /** Forward and backward of the micro-batch in {@code tokens}, its gradient accumulated into {@code into}; its loss divided by gradAccumulation. */
    private double microBatch(int micro, MicroBatchGates gates, ModelWeights into) {
        int rows = tokens.length;
        int accumulation = config.batching().gradAccumulation();
        float scale = 1f / accumulation;
        double loss;
        MaskSet masks = gates.sample(micro);
        float[] logits = Transformer.forward(model, tokens, config.batching().batchSize(), config.batching().seqLen(), activations, masks);
        int vocab = model.config().vocabSize();
        float[] dLogits = activations.gradients().logits;
        if (teacher == null) {
            loss = CrossEntropy.forwardBackward(logits, targets, rows, vocab, dLogits, scale) / accumulation;
        } else {
            double alpha = config.distill().alpha();
            float[] teacherLogits = Transformer.forward(teacher, tokens, config.batching().batchSize(), config.batching().seqLen(), teacherActivations, MaskSet.NONE);
            loss = ((1 - alpha) * CrossEntropy.forwardBackward(logits, targets, rows, vocab, dLogits, (float) (scale * (1 - alpha)))
                    + alpha * Distillation.forwardBackward(logits, teacherLogits, targets, rows, vocab, dLogits, (float) (scale * alpha),
                    config.distill().temperature())) / accumulation;
        }
        Transformer.backward(model, tokens, activations, masks, into, gates.gradients());
        gates.backwardDone();
        return loss;
    }

    /** Held-out loss of any model on one half of the held-out windows of prepared domains, with inference buffers. */
    public static double[] heldOutLoss(Model model, List<TokenDataset> domains, int seqLen, int maxWindows, MaskSet masks, HeldOutPart part) {
        return heldOutLoss(model, domains, seqLen, maxWindows, masks, part, new SingleProcess());
    }

    /**
     * As {@link #heldOutLoss(Model, List, int, int, MaskSet, HeldOutPart)} with each domain's windows shared over
     * the ranks of {@code collective} ({@link OrderedSum#first}); the windows' losses are gathered and added in
     * window order, as {@link #meanLoss} adds them, so every rank gets the same bits as one process.
     */
    public static double[] heldOutLoss(Model model, List<TokenDataset> domains, int seqLen, int maxWindows, MaskSet masks, HeldOutPart part,
                                       Collective collective) {
        double[] losses = new double[domains.size()];
        for (int d = 0; d < domains.size(); d++) {
            TokenDataset data = domains.get(d);
            long[] starts = part.windows(data, seqLen, maxWindows);
            int count = starts.length, first = OrderedSum.first(count, collective.rank(), collective.size());
            double[] own = new double[OrderedSum.first(count, collective.rank() + 1, collective.size()) - first];
            if (own.length > 0) {
                Activations acts = Activations.forInference(model.config(), 1, seqLen);
                int[] window = new int[seqLen + 1], input = new int[seqLen], target = new int[seqLen];
                for (int i = 0; i < own.length; i++) {
                    data.read(Split.HELDOUT, starts[first + i], window, 0, seqLen + 1);
                    System.arraycopy(window, 0, input, 0, seqLen);
                    System.arraycopy(window, 1, target, 0, seqLen);
                    float[] logits = Transformer.forward(model, input, 1, seqLen, acts, masks);
                    own[i] = CrossEntropy.forwardBackward(logits, target, seqLen, model.config().vocabSize(), new float[0], 1f);
                }
            }
            double sum = 0;
            for (double l : collective.size() == 1 ? own : OrderedSum.gather(collective, count, own)) sum += l;
            losses[d] = count == 0 ? Double.NaN : sum / count;
        }
        return losses;
    }

    /**
     * Mean next-token loss (nats) over windows of equal length, each {@code seqLen + 1} tokens: the
     * first {@code seqLen} are the input, the last {@code seqLen} the targets.
     */
    public static double meanLoss(Model model, List<int[]> windows, MaskSet masks, dev.shears.progress.Progress progress) {
        int seqLen = windows.getFirst().length - 1;
        Activations acts = Activations.forInference(model.config(), 1, seqLen);
        int[] input = new int[seqLen], target = new int[seqLen];
        double sum = 0;
        progress.start("loss", windows.size(), "seq");
        for (int[] w : windows) {
            System.arraycopy(w, 0, input, 0, seqLen);
            System.arraycopy(w, 1, target, 0, seqLen);
            float[] logits = Transformer.forward(model, input, 1, seqLen, acts, masks);
            sum += CrossEntropy.forwardBackward(logits, target, seqLen, model.config().vocabSize(), new float[0], 1f);
            progress.advance(1);
        }
        progress.finish();
        return sum / windows.size();
    }
}
