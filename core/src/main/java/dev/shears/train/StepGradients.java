package dev.shears.train;

import dev.shears.dist.Collective;
import dev.shears.dist.OrderedSum;
import dev.shears.model.ModelConfig;
import dev.shears.model.ModelWeights;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The gradient of one optimizer step summed over its micro-batches in a fixed order, in one process or
 * over the ranks of an MPI run, with the same bits either way: the first micro-batch's gradient is written
 * into the step's buffer, every later one's into zeroed scratch that is then added element-wise, so the
 * step's gradient is {@code ((g₀ + g₁) + g₂) + …} in float. Over N ranks each rank runs a contiguous share
 * of the micro-batches ({@link OrderedSum#first}) and keeps their gradients apart until {@link #reduce}
 * chains the shares' sums along the ranks in the same order ({@link OrderedSum#sum}).
 *
 * <p>Per step: {@link #into} then the micro-batch's backward then {@link #done}, for each micro-batch of
 * this rank's share, then {@link #reduce}. The step's buffer must be zero when the step starts (the
 * optimizer's update clears it).
 */
public final class StepGradients {
    private final ModelConfig config;
    private final Collective collective;
    private final int accumulation;
    private final ModelWeights grads;
    private final int first;
    private final int end;
    /** Gradients of the micro-batches after the first: one buffer in one process; under MPI, one per micro-batch of this rank's share but its first. */
    private final List<ModelWeights> scratch = new ArrayList<>();
    /** This step's gradients of this rank's micro-batches, in order. */
    private final List<ModelWeights> own = new ArrayList<>();

    /**
     * @param grads        the step's gradient buffer, [the model's tensors]
     * @param accumulation micro-batches per step, over all ranks
     */
    public StepGradients(ModelConfig config, ModelWeights grads, int accumulation, Collective collective) {
        this.config = config;
        this.collective = collective;
        this.accumulation = accumulation;
        this.grads = grads;
        this.first = OrderedSum.first(accumulation, collective.rank(), collective.size());
        this.end = OrderedSum.first(accumulation, collective.rank() + 1, collective.size());
    }

    /** The first micro-batch of this rank's share. */
    public int first() {
        return first;
    }

    /** One past the last micro-batch of this rank's share. */
    public int end() {
        return end;
    }

    /** The buffer micro-batch {@code micro} (of this rank's share) accumulates its gradient into: the step's, or zeroed scratch. */
    public ModelWeights into(int micro) {
        if (micro < first || micro >= end) throw new IllegalArgumentException("micro-batch " + micro + " is not in this rank's share [" + first + ", " + end + ")");
        if (micro == first) return grads;
        ModelWeights into = scratch(collective.size() == 1 ? 0 : micro - first - 1);
        into.forEach((role, layer, g) -> Arrays.fill(g, 0f));
        return into;
    }

    /** Micro-batch {@code micro}'s gradient is complete in {@code into}: in one process it is added to the step's at once. */
    public void done(int micro, ModelWeights into) {
        own.add(into);
        if (collective.size() == 1 && micro > first) add(grads, into);
    }

    /** The step's gradient in the step's buffer on every rank (over ranks: the shares' sums chained in micro-batch order). */
    public void reduce() {
        if (collective.size() > 1) {
            List<float[]> sums = tensors(grads);
            List<List<float[]>> parts = own.stream().map(StepGradients::tensors).toList();
            for (int t = 0; t < sums.size(); t++) {
                List<float[]> mine = new ArrayList<>();
                for (List<float[]> p : parts) mine.add(p.get(t));
                OrderedSum.sum(collective, accumulation, mine, sums.get(t)); // the first part may be the sum itself
            }
        }
        own.clear();
    }

    /**
     * The gradient buffers beside the step's that a rank allocates (for the memory plan): none without gradient
     * accumulation, one in one process (each later micro-batch's, added at once), and under MPI one per
     * micro-batch of the largest share but its first (kept until {@link #reduce}).
     */
    public static int scratchBuffers(int gradAccumulation, int ranks) {
        if (ranks == 1) return gradAccumulation > 1 ? 1 : 0;
        return Math.max(0, (gradAccumulation + ranks - 1) / ranks - 1);
    }

    /** The i-th scratch gradient buffer, allocated on first use. */
    private ModelWeights scratch(int i) {
        while (scratch.size() <= i) scratch.add(ModelWeights.zeros(config));
        return scratch.get(i);
    }

    /** {@code sum += part}, element-wise, tensor by tensor. */
    private static void add(ModelWeights sum, ModelWeights part) {
        List<float[]> sums = tensors(sum), parts = tensors(part);
        for (int t = 0; t < sums.size(); t++) {
            float[] s = sums.get(t), p = parts.get(t);
            for (int i = 0; i < s.length; i++) s[i] += p[i];
        }
    }

    /** The heap tensors of {@code w} in {@link ModelWeights#forEach} order. */
    private static List<float[]> tensors(ModelWeights w) {
        List<float[]> all = new ArrayList<>();
        w.forEach((role, layer, g) -> all.add(g));
        return all;
    }
}
