package dev.shears.objective;

import dev.shears.format.hf.FolderWeights.Visitor;
import dev.shears.tensor.Parallel;
import dev.shears.train.AdamW;
import dev.shears.train.AdamWConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * AdamW over a list of named tensors: the arithmetic is {@link AdamW#updateTensor}, the decoder-only optimizer's,
 * applied to every tensor in the order of the list. As there, weight decay applies to matrices only: every rank-2
 * tensor (embeddings, projections, relative-position tables, an untied head), never a rank-1 one (layer-norm scales
 * and shifts, biases).
 */
public class TensorAdamW {
    private final AdamWConfig adamW;
    private final List<String> names = new ArrayList<>();
    private final List<int[]> shapes = new ArrayList<>();
    private final List<float[]> firstMoment = new ArrayList<>();
    private final List<float[]> secondMoment = new ArrayList<>();
    private long step;

    /** @param tensors lists the parameters' names and shapes (their values are not kept) */
    public TensorAdamW(Consumer<Visitor> tensors, AdamWConfig adamW) {
        this.adamW = adamW;
        tensors.accept((name, shape, values) -> {
            names.add(name);
            shapes.add(shape.clone());
            firstMoment.add(new float[values.length]);
            secondMoment.add(new float[values.length]);
        });
    }

    /** Steps taken so far. */
    public long step() {
        return step;
    }

    /** Restores the step count from a checkpoint (moments are restored through {@link #forEachMoment}). */
    public void restoreStep(long steps) {
        this.step = steps;
    }

    /** Every moment as {@code m.NAME} and {@code v.NAME}, first moments first: the tensors a checkpoint stores. */
    public void forEachMoment(Visitor visitor) {
        for (int t = 0; t < names.size(); t++) visitor.accept("m." + names.get(t), shapes.get(t), firstMoment.get(t));
        for (int t = 0; t < names.size(); t++) visitor.accept("v." + names.get(t), shapes.get(t), secondMoment.get(t));
    }

    /**
     * One update of every tensor of {@code params} from {@code grads · gradScale} at learning rate {@code lr},
     * zeroing the gradients for the next step in the same pass.
     *
     * @param params the parameters, in the order of the constructor's list
     * @param grads  their gradients, in the same order
     */
    public void update(List<float[]> params, List<float[]> grads, double lr, float gradScale) {
        step++;
        AdamW.Step s = AdamW.Step.of(adamW, step, lr);
        Parallel.forEach(params.size(), t -> AdamW.updateTensor(params.get(t), grads.get(t), firstMoment.get(t), secondMoment.get(t), s,
                shapes.get(t).length == 2, gradScale, true));
    }

    /** The tensors a visitor-taking method lists, in its order. */
    static List<float[]> tensors(Consumer<Visitor> forEach) {
        List<float[]> out = new ArrayList<>();
        forEach.accept((name, shape, values) -> out.add(values));
        return out;
    }
}
