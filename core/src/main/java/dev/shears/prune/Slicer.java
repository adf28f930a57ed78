package dev.shears.prune;

import dev.shears.model.Axis;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * Cuts a model to a {@link PruningPlan}, driven only by the tensor-role table: each dimension of each
 * tensor keeps the indices of its axis (hidden channels, heads × headDim rows, kv heads, neurons,
 * vocabulary rows). Removed layers are dropped and the rest renumbered.
 */
public final class Slicer {
    private Slicer() {
    }

    public static Model slice(Model parent, PruningPlan plan) {
        ModelConfig c = parent.config();
        plan.validate(c);
        ModelConfig result = plan.resultConfig(c);
        Model sliced = Model.zeros(result);
        List<Integer> keptLayers = new ArrayList<>();
        for (int l = 0; l < c.numLayers(); l++) if (plan.layers().get(l).kept()) keptLayers.add(l);
        sliced.weights().forEach((role, newLayer, values) -> {
            int oldLayer = role.perLayer ? keptLayers.get(newLayer) : -1;
            float[] source = parent.weights().get(role, oldLayer);
            Axis[] axes = role.axes();
            int[] shape = role.shape(c, oldLayer);
            float[] cut = axes.length == 1
                    ? IndexSets.gather(source, shape[0], new int[] {0}, kept(plan, c, oldLayer, axes[0]))
                    : IndexSets.gather(source, shape[1], kept(plan, c, oldLayer, axes[0]), kept(plan, c, oldLayer, axes[1]));
            sliced.weights().set(role, newLayer, cut);
        });
        return sliced;
    }

    /** The kept element indices along one axis of one layer. */
    static int[] kept(PruningPlan plan, ModelConfig c, int layer, Axis axis) {
        return switch (axis) {
            case HIDDEN -> plan.hidden();
            case HEAD -> IndexSets.expand(plan.layers().get(layer).heads(), c.headDim());
            case KV_HEAD -> IndexSets.expand(plan.layers().get(layer).kvHeads(), c.headDim());
            case FFN -> plan.layers().get(layer).ffn();
            case VOCAB -> plan.vocab();
        };
    }

    /** Parameters the pruned model will have, from the plan alone (equals the sliced tensors' sizes). */
    public static long parameterCount(ModelConfig parent, PruningPlan plan) {
        return plan.resultConfig(parent).parameterCount();
    }

}
