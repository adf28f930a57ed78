package dev.shears.train;

import dev.shears.data.BatchSampler;
import dev.shears.data.HeldOutPart;
import dev.shears.data.Split;
import dev.shears.data.TokenDataset;
import dev.shears.kernel.CrossEntropy;
import dev.shears.kernel.Distillation;
import dev.shears.model.Activations;
import dev.shears.model.MaskSet;
import dev.shears.model.Model;
import dev.shears.model.ModelWeights;
import dev.shears.model.Transformer;

import java.util.List;

/**
 * One optimizer step at a time: gradient accumulation over micro-batches, global-norm clipping,
 * scheduled learning rate, AdamW. Buffers (activations, gradients, moments) are allocated once.
 * The result of a step depends only on the weights, the optimizer state, the step number, the domain
 * weights and the sampler's data cursor (checkpointed), so a resumed run is bit-identical to an
 * uninterrupted one.
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

    public Trainer(Model model, BatchSampler sampler, TrainConfig config) {
        this(model, null, sampler, config);
    }

    /** @param teacher a teacher for distillation (config.distill()), or null */
    public Trainer(Model model, Model teacher, BatchSampler sampler, TrainConfig config) {
        this.model = model;
        this.sampler = sampler;
        this.config = config;
        this.schedule = config.learningRate();
        this.optimizer = new AdamW(model.config(), config.optimiser().adamW());
        this.activations = Activations.forTraining(model.config(), config.batching().batchSize(), config.batching().seqLen());
        this.grads = ModelWeights.zeros(model.config());
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
        // gradients are zero here: allocated so, and cleared by the previous update
        int rows = tokens.length;
        double loss = 0;
        float scale = 1f / config.batching().gradAccumulation();
        for (int micro = 0; micro < config.batching().gradAccumulation(); micro++) {
            sampler.sample(step, micro, domainWeights, config.batching().batchSize(), tokens, targets);
            MaskSet masks = gates.sample(micro);
            float[] logits = Transformer.forward(model, tokens, config.batching().batchSize(), config.batching().seqLen(), activations, masks);
            int vocab = model.config().vocabSize();
            float[] dLogits = activations.gradients().logits;
            if (teacher == null) {
                loss += CrossEntropy.forwardBackward(logits, targets, rows, vocab, dLogits, scale) / config.batching().gradAccumulation();
            } else {
                double alpha = config.distill().alpha();
                float[] teacherLogits = Transformer.forward(teacher, tokens, config.batching().batchSize(), config.batching().seqLen(), teacherActivations, MaskSet.NONE);
                loss += ((1 - alpha) * CrossEntropy.forwardBackward(logits, targets, rows, vocab, dLogits, (float) (scale * (1 - alpha)))
                        + alpha * Distillation.forwardBackward(logits, teacherLogits, targets, rows, vocab, dLogits, (float) (scale * alpha),
                        config.distill().temperature())) / config.batching().gradAccumulation();
            }
            Transformer.backward(model, tokens, activations, masks, grads, gates.gradients());
            gates.backwardDone();
        }
        double norm = GradientClipping.globalNorm(grads);
        double lr = schedule.at(step);
        optimizer.update(model.weights(), grads, lr, GradientClipping.scale(norm, config.optimiser().gradClip()), true);
        return new StepResult(step, loss, lr, norm, config.tokensPerStep(), (System.nanoTime() - start) / 1e9);
    }

    /** Held-out loss of any model on one half of the held-out windows of prepared domains, with inference buffers. */
    public static double[] heldOutLoss(Model model, List<TokenDataset> domains, int seqLen, int maxWindows, MaskSet masks, HeldOutPart part) {
        double[] losses = new double[domains.size()];
        for (int d = 0; d < domains.size(); d++) {
            TokenDataset data = domains.get(d);
            List<int[]> windows = new java.util.ArrayList<>();
            for (long s : part.windows(data, seqLen, maxWindows)) {
                int[] window = new int[seqLen + 1];
                data.read(Split.HELDOUT, s, window, 0, seqLen + 1);
                windows.add(window);
            }
            losses[d] = windows.isEmpty() ? Double.NaN : meanLoss(model, windows, masks, dev.shears.progress.Progress.SILENT);
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
