package dev.shears.prune;

import java.util.List;

/**
 * The shape to prune to, as kept counts (a uniform shape per layer unless {@code nonUniform}).
 * Build it from ratios, counts or a target config with {@link TargetParser}.
 *
 * @param numLayers             layers to keep
 * @param numHeads              query heads per layer
 * @param numKvHeads            key/value heads per layer (numHeads must be a multiple of it)
 * @param ffnDim                FFN neurons per layer
 * @param dim                   hidden channels
 * @param attentionLayersToDrop attention sub-layers to remove (layers keep their FFN)
 * @param ffnLayersToDrop       FFN sub-layers to remove (layers keep their attention)
 * @param dropLayers            explicit layer indices to remove (overrides scores for depth when not empty)
 * @param nonUniform            per-layer head and FFN counts follow importance; the totals equal the uniform target's
 */
public record PruneTarget(int numLayers, int numHeads, int numKvHeads, int ffnDim, int dim,
                          int attentionLayersToDrop, int ffnLayersToDrop, List<Integer> dropLayers, boolean nonUniform) {
    public PruneTarget {
        dropLayers = List.copyOf(dropLayers);
    }
}
