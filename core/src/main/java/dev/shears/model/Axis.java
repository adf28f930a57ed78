package dev.shears.model;

/**
 * A prunable axis: what one index along a tensor dimension belongs to. A dimension of
 * {@code units × unitWidth} elements, e.g. the rows of the query projection are
 * {@code numHeads} units of {@code headDim} rows each.
 */
public enum Axis {
    /** Residual-stream channels, [dim]. */
    HIDDEN,
    /** Query heads of one layer, [numHeads × headDim]. */
    HEAD,
    /** Key/value heads of one layer, [numKvHeads × headDim]. */
    KV_HEAD,
    /** SwiGLU neurons of one layer, [ffnDim]. */
    FFN,
    /** Vocabulary entries, [vocabSize]. */
    VOCAB
}
