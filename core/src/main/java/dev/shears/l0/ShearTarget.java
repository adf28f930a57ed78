package dev.shears.l0;

import dev.shears.ShearsException;
import dev.shears.model.LayerShape;
import dev.shears.model.ModelConfig;
import dev.shears.prune.PruneTarget;

import java.util.Collections;

/**
 * The exact shape learned masks must reach: uniform kept counts in every layer.
 *
 * @param numLayers             layers kept
 * @param dim                   hidden channels kept
 * @param numHeads              query heads kept per layer
 * @param numKvHeads            key/value heads kept per layer
 * @param ffnDim                FFN neurons kept per layer
 * @param attentionLayersToDrop kept layers that lose their attention sub-layer
 * @param ffnLayersToDrop       kept layers that lose their FFN sub-layer
 */
public record ShearTarget(int numLayers, int dim, int numHeads, int numKvHeads, int ffnDim, int attentionLayersToDrop, int ffnLayersToDrop) {
    public ShearTarget {
        if (numKvHeads < 1 || numHeads % numKvHeads != 0) {
            throw new ShearsException("target heads " + numHeads + " must be a positive multiple of kv heads " + numKvHeads);
        }
        if (attentionLayersToDrop < 0 || ffnLayersToDrop < 0 || attentionLayersToDrop > numLayers || ffnLayersToDrop > numLayers) {
            throw new ShearsException("sub-layers to drop must be in 0.." + numLayers);
        }
    }

    /** From a parsed pruning target; learned masks choose the layers, so explicit layers and non-uniform widths are refused. */
    public static ShearTarget of(PruneTarget t) {
        if (!t.dropLayers().isEmpty()) throw new ShearsException("shear learns which layers to drop; explicit layers to drop are not supported");
        if (t.nonUniform()) throw new ShearsException("shear reaches a uniform target shape; non-uniform widths are not supported");
        return new ShearTarget(t.numLayers(), t.dim(), t.numHeads(), t.numKvHeads(), t.ffnDim(), t.attentionLayersToDrop(), t.ffnLayersToDrop());
    }

    /** Query heads kept inside each kept group. */
    public int headsPerGroup() {
        return numHeads / numKvHeads;
    }

    /**
     * Units kept in one row of an axis (for {@link GateAxis#HEAD}: the kept query heads if every group
     * kept {@link #headsPerGroup()} of its heads, so the kept fraction is the within-group fraction).
     */
    public int kept(GateAxis axis, ModelConfig parent, int row) {
        return switch (axis) {
            case HIDDEN -> dim;
            case KV_GROUP -> parent.layer(row).hasAttention() ? numKvHeads : 0;
            case HEAD -> parent.layer(row).hasAttention() ? headsPerGroup() * parent.layer(row).numKvHeads() : 0;
            case FFN -> parent.layer(row).hasFfn() ? ffnDim : 0;
            case ATTENTION_LAYER -> numLayers - attentionLayersToDrop;
            case FFN_LAYER -> numLayers - ffnLayersToDrop;
        };
    }

    /** The target model's config: the parent's hyper-parameters with this shape in every layer. */
    public ModelConfig config(ModelConfig parent) {
        if (attentionLayersToDrop > 0 || ffnLayersToDrop > 0) {
            throw new IllegalStateException("a target that drops sub-layers has no uniform config");
        }
        return parent.withLayers(Collections.nCopies(numLayers, new LayerShape(numHeads, numKvHeads, ffnDim))).withDim(dim);
    }
}
