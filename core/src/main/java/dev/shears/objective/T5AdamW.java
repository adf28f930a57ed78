package dev.shears.objective;

import dev.shears.seq2seq.T5Config;
import dev.shears.seq2seq.T5Weights;
import dev.shears.tensor.Parallel;
import dev.shears.train.AdamW;
import dev.shears.train.AdamWConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * AdamW over a T5's weights: the arithmetic is {@link AdamW#updateTensor}, the decoder-only optimizer's,
 * applied to every tensor {@link T5Weights#forEach} lists (a tied LM head is the embedding, updated once).
 * As there, weight decay applies to matrices only: every rank-2 tensor (the embedding, the projections, the
 * relative-position bias tables and an untied head), never the layer norms.
 */
public final class T5AdamW {
    private final T5Config config;
    private final AdamWConfig adamW;
    private final T5Weights firstMoment;
    private final T5Weights secondMoment;
    private long step;

    public T5AdamW(T5Config config, AdamWConfig adamW) {
        this.config = config;
        this.adamW = adamW;
        this.firstMoment = T5Weights.zeros(config);
        this.secondMoment = T5Weights.zeros(config);
    }

    /** Steps taken so far. */
    public long step() {
        return step;
    }

    /** Restores the step count from a checkpoint (moments are restored through their accessors). */
    public void restoreStep(long steps) {
        this.step = steps;
    }

    /** The moments, shaped like the weights, for checkpoints. */
    public T5Weights firstMoment() {
        return firstMoment;
    }

    public T5Weights secondMoment() {
        return secondMoment;
    }

    /**
     * One update of every tensor of {@code weights} from {@code grads · gradScale} at learning rate {@code lr},
     * zeroing the gradients for the next step in the same pass.
     */
    public void update(T5Weights weights, T5Weights grads, double lr, float gradScale) {
        step++;
        AdamW.Step s = AdamW.Step.of(adamW, step, lr);
        List<float[]> g = tensors(grads), m = tensors(firstMoment), v = tensors(secondMoment);
        List<Runnable> updates = new ArrayList<>();
        weights.forEach(config, (name, shape, p) -> {
            int t = updates.size();
            boolean decayed = shape.length == 2;
            updates.add(() -> AdamW.updateTensor(p, g.get(t), m.get(t), v.get(t), s, decayed, gradScale, true));
        });
        Parallel.forEach(updates.size(), i -> updates.get(i).run());
    }

    /** Every tensor of {@code w}, in {@link T5Weights#forEach}'s order. */
    static List<float[]> tensors(T5Config config, T5Weights w) {
        List<float[]> out = new ArrayList<>();
        w.forEach(config, (name, shape, values) -> out.add(values));
        return out;
    }

    private List<float[]> tensors(T5Weights w) {
        return tensors(config, w);
    }
}
