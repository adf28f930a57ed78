package dev.shears.prune;

import dev.shears.model.Axis;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.model.ModelWeights;
import dev.shears.tensor.DenseTensor;
import dev.shears.tensor.SlicedTensor;
import dev.shears.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Cuts a model to a {@link PruningPlan}, driven only by the tensor-role table: each dimension of each
 * tensor keeps the indices of its axis (hidden channels, heads × headDim rows, kv heads, neurons,
 * vocabulary rows). Removed layers are dropped and the rest renumbered. The cut matrices are views of
 * the parent's ({@link SlicedTensor}): nothing is copied until the child is written, streamed row by
 * row into its file, or widened for training; the parent must stay open while the child is used.
 */
public final class Slicer {
    private Slicer() {
    }

    public static Model slice(Model parent, PruningPlan plan) {
        ModelConfig c = parent.config();
        plan.validate(c);
        ModelConfig result = plan.resultConfig(c);
        List<Integer> keptLayers = new ArrayList<>();
        for (int l = 0; l < c.numLayers(); l++) if (plan.layers().get(l).kept()) keptLayers.add(l);
        ModelWeights weights = ModelWeights.of(result, (role, newLayer) -> {
            int oldLayer = role.perLayer ? keptLayers.get(newLayer) : -1;
            Tensor source = parent.weights().tensor(role, oldLayer);
            Axis[] axes = role.axes();
            if (axes.length == 1) {
                int[] kept = kept(plan, c, oldLayer, axes[0]);
                SlicedTensor cut = new SlicedTensor(source, new int[] {0}, kept);
                return DenseTensor.vector(cut.toArray());
            }
            return new SlicedTensor(source, kept(plan, c, oldLayer, axes[0]), kept(plan, c, oldLayer, axes[1]));
        }, List.of());
        return new Model(result, weights);
    }

    /** The kept element indices along one axis of one layer. */
    static int[] kept(PruningPlan plan, ModelConfig c, int layer, Axis axis) {
        return IndexSets.expand(plan.kept(axis, layer), axis.unitWidth(c));
    }

    /** Parameters the pruned model will have, from the plan alone (equals the sliced tensors' sizes). */
    public static long parameterCount(ModelConfig parent, PruningPlan plan) {
        return plan.resultConfig(parent).parameterCount();
    }

}
