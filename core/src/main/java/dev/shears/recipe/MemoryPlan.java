package dev.shears.recipe;

import dev.shears.ShearsException;
import dev.shears.dist.OrderedSum;
import dev.shears.model.ModelConfig;
import dev.shears.model.TensorRole;
import dev.shears.prune.Criterion;
import dev.shears.prune.CriterionOptions;
import dev.shears.prune.TaylorVariant;

import java.util.Locale;

/**
 * What a command will hold at its peak, estimated from the config and the options before any work:
 * heap bytes (activations, calibration states, trained weights with their gradients and AdamW
 * moments) and the mapped weight bytes it touches at once (one layer while streaming). A command
 * whose heap plan exceeds the heap this JVM may grow to refuses in one line instead of failing
 * hours in.
 *
 * @param what        the work, for the message
 * @param heapBytes   peak heap
 * @param mappedBytes mapped weight bytes resident at once
 */
public record MemoryPlan(String what, long heapBytes, long mappedBytes) {
    /** The JVM itself, loaded classes, tokenizers and buffers: a floor under every plan. */
    static final long BASELINE = 64L << 20;
    public static final String HOW_TO_RAISE = "Raise the heap with SHEARS_JAVA_OPTS=-Xmx<N>g (the launcher sizes it from this plan for prune and"
            + " perplexity, else gives 60% of this machine's memory).";

    /** Refuses when the plan's heap exceeds what this JVM may use. */
    public MemoryPlan check() {
        long max = Runtime.getRuntime().maxMemory();
        if (heapBytes > max) {
            throw new ShearsException(what + " needs about " + gigabytes(heapBytes) + " of heap but may use " + gigabytes(max)
                    + " (this machine has " + gigabytes(physicalMemory()) + "). " + HOW_TO_RAISE);
        }
        return this;
    }

    public static String gigabytes(long bytes) {
        return String.format(Locale.ROOT, "%.1f GB", bytes / 1e9);
    }

    private static long physicalMemory() {
        return java.lang.management.ManagementFactory.getPlatformMXBean(com.sun.management.OperatingSystemMXBean.class).getTotalMemorySize();
    }

    /**
     * A forward pass over {@code rows} positions with mapped weights (perplexity, evaluation, generation),
     * with a KV cache of {@code cached} positions: every layer's weights are touched per pass.
     */
    public static MemoryPlan inference(String what, ModelConfig c, int rows, int cached, long weightBytes) {
        long cache = 2L * c.numLayers() * cached * kvWidth(c);
        return new MemoryPlan(what, BASELINE + vectors(c) + 4 * (inferenceActivations(c, rows) + cache), weightBytes);
    }

    /** {@link #prune(ModelConfig, int, int, Criterion, Criterion, int, CriterionOptions, long)} with the default criterion options. */
    public static MemoryPlan prune(ModelConfig c, int windows, int seqLen, Criterion width, Criterion depth, int angularSpan, long weightBytes) {
        return prune(c, windows, seqLen, width, depth, angularSpan, CriterionOptions.DEFAULT, weightBytes);
    }

    /** {@link #prune(ModelConfig, int, int, int, Criterion, Criterion, int, CriterionOptions, long)} in one process. */
    public static MemoryPlan prune(ModelConfig c, int windows, int seqLen, Criterion width, Criterion depth, int angularSpan, CriterionOptions options,
                                   long weightBytes) {
        return prune(c, windows, 1, seqLen, width, depth, angularSpan, options, weightBytes);
    }

    /**
     * One-shot pruning: calibration states of every window at a layer boundary (Taylor also keeps each
     * layer's inputs and the gradients at the boundary), one layer's training buffers, its mapped weights;
     * a weight-level Taylor variant adds fp32 gradient buffers (a window's, their sum and, with a
     * Fisher term, their squares) of one layer or of the vocabulary table, whichever is larger (a tied
     * table's sums stay while the layers are visited). Activation, block influence and angular distance keep
     * each window's scores (in double) until they are added in window order; Taylor's gate variants gather every
     * window's gate gradients (in double, then as gates). With {@code ranks} sharing the windows, a rank holds its
     * share's states (the largest share: {@code ceil(windows / ranks)}) and the gathered gate gradients of all windows;
     * for a weight-level variant, a rank after the first keeps one gradient buffer per window of its share, not one,
     * until the running sums reach it.
     */
    public static MemoryPlan prune(ModelConfig c, int windows, int ranks, int seqLen, Criterion width, Criterion depth, int angularSpan,
                                   CriterionOptions options, long weightBytes) {
        int share = OrderedSum.share(windows, ranks - 1, ranks);
        long boundary = (long) share * seqLen * c.dim();
        long floats = boundary + layerwiseActivations(c, seqLen);
        boolean taylor = isTaylor(width) || isTaylor(depth);
        if (taylor) floats += (long) c.numLayers() * boundary + boundary + (long) share * gates(c) + 3L * windows * gates(c);
        if (width == Criterion.ACTIVATION || depth == Criterion.BLOCK_INFLUENCE || depth == Criterion.ANGULAR) {
            floats += 2L * share * (gates(c) + c.numLayers());
        }
        if (taylor && options.taylor().family == TaylorVariant.Family.WEIGHT) {
            long windowBuffers = ranks == 1 ? 1 : share;
            long copies = (options.taylor().needsFisher() ? 2 : 1) + windowBuffers;
            long table = (long) c.vocabSize() * c.dim();
            long layer = 0;
            for (int l = 0; l < c.numLayers(); l++) {
                long size = 0;
                for (TensorRole role : TensorRole.values()) if (role.perLayer) size += role.size(c, l);
                layer = Math.max(layer, size);
            }
            floats += c.tiedEmbeddings() ? copies * (table + layer) + (options.taylor().needsFisher() ? boundary : 0) : copies * Math.max(table, layer);
        }
        if (width == Criterion.ACTIVATION) floats += 2L * share * c.dim();
        if (depth == Criterion.ANGULAR) floats += (long) (angularSpan + 1) * boundary;
        long layerBytes = c.numLayers() == 0 ? 0 : weightBytes / (c.numLayers() + 1);
        return new MemoryPlan("pruning with " + windows + " calibration windows of " + seqLen + " tokens", BASELINE + vectors(c) + 4 * floats, layerBytes);
    }

    /**
     * Training or shearing: fp32 master weights, gradients and two AdamW moments, and every layer's
     * activations; the refusal names the largest model that would fit beside the same activations.
     */
    public static MemoryPlan training(String what, ModelConfig c, int batchSize, int seqLen) {
        return training(what, c, batchSize, seqLen, 0);
    }

    /**
     * As {@link #training(String, ModelConfig, int, int)} with {@code scratchGradients} more fp32 gradient
     * buffers: the trainer's per-micro-batch gradients ({@code StepGradients.scratchBuffers}).
     */
    public static MemoryPlan training(String what, ModelConfig c, int batchSize, int seqLen, int scratchGradients) {
        long rows = (long) batchSize * seqLen;
        long activations = 4 * ((long) c.numLayers() * trainingLayer(c, batchSize, seqLen) + gradientBuffers(c, rows) + 2 * rows * c.dim()
                + rows * c.vocabSize());
        long perParameter = 16 + 4L * scratchGradients;
        long heap = BASELINE + perParameter * c.parameterCount() + activations;
        long fits = Math.max(0, (Runtime.getRuntime().maxMemory() - BASELINE - activations) / perParameter);
        return new MemoryPlan(String.format(Locale.ROOT, "%s of %,d parameters (fp32 weights, gradients and AdamW moments%s: %d bytes each; about %,d would fit)",
                what, c.parameterCount(), scratchGradients == 0 ? "" : ", " + scratchGradients + " micro-batch gradient" + (scratchGradients == 1 ? "" : "s"),
                perParameter, fits), heap, 0);
    }

    private static boolean isTaylor(Criterion c) {
        return c == Criterion.TAYLOR;
    }

    private static long vectors(ModelConfig c) {
        return 4L * (2L * c.numLayers() + 1) * c.dim();
    }

    private static long gates(ModelConfig c) {
        long n = c.dim() + 2L * c.numLayers();
        for (int l = 0; l < c.numLayers(); l++) n += c.layer(l).numHeads() + c.layer(l).ffnDim();
        return n;
    }

    private static long qWidth(ModelConfig c) {
        return (long) c.maxHeads() * c.headDim();
    }

    private static long kvWidth(ModelConfig c) {
        return (long) c.maxKvHeads() * c.headDim();
    }

    /** Floats of inference buffers: one layer set shared by all layers, plus the logits. */
    private static long inferenceActivations(ModelConfig c, long rows) {
        return rows * (8L * c.dim() + 2 * qWidth(c) + 2 * kvWidth(c) + 3L * c.maxFfnDim() + c.vocabSize());
    }

    /** Floats of one layer's training buffers (attention probabilities included). */
    private static long trainingLayer(ModelConfig c, int batchSize, int seqLen) {
        long rows = (long) batchSize * seqLen;
        return rows * (6L * c.dim() + 3 * qWidth(c) + 2 * kvWidth(c) + 4L * c.maxFfnDim()) + (long) batchSize * c.maxHeads() * seqLen * seqLen;
    }

    private static long gradientBuffers(ModelConfig c, long rows) {
        return rows * (3L * c.dim() + 2 * qWidth(c) + 2 * kvWidth(c) + 3L * c.maxFfnDim() + c.vocabSize());
    }

    /** Floats of {@code Activations.forLayerwise}: one layer's training buffers and the gradient buffers. */
    private static long layerwiseActivations(ModelConfig c, int seqLen) {
        return trainingLayer(c, 1, seqLen) + gradientBuffers(c, seqLen) + 2L * seqLen * c.dim() + (long) seqLen * c.vocabSize();
    }
}
