package dev.shears.model;

/** The two sub-layers of a decoder layer; every per-layer tensor belongs to one ({@link TensorRole#subLayer}). */
public enum SubLayer {
    ATTENTION,
    FFN;

    /** Whether a layer of this shape still has this sub-layer. */
    public boolean isIn(LayerShape shape) {
        return this == ATTENTION ? shape.hasAttention() : shape.hasFfn();
    }

    /** The axis whose units are this sub-layer in every layer. */
    public Axis axis() {
        return this == ATTENTION ? Axis.ATTENTION_LAYER : Axis.FFN_LAYER;
    }
}
