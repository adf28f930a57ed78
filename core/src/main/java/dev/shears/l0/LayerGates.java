package dev.shears.l0;

/**
 * How learned masks gate depth (METHODS.md §2). Sheared-LLaMA's published script ({@code pruning.sh}:
 * {@code pruning_modules [head, intermediate, layer, hidden]}) has one gate per layer that scales both
 * of its sub-layers; separate attention and FFN sub-layer gates are an option there and here.
 */
public enum LayerGates {
    /**
     * One gate per layer on both sub-layers ({@code layer}, the reference's default): the layers with the
     * highest deterministic scores are kept, whole. Sub-layer gates act only where the target also removes
     * attention or FFN sub-layers from kept layers.
     */
    LAYER,
    /**
     * Separate attention and FFN sub-layer gates ({@code head_layer} and {@code mlp}): each sub-layer kind
     * keeps its own best-scoring sub-layers, so a layer may keep one sub-layer and lose the other, and a
     * layer that keeps neither is removed. A target of {@code layers=N} keeps N of each.
     */
    SUB_LAYERS
}
