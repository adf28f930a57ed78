package dev.shears.l0;

/**
 * The axes that carry learned hard-concrete gates (Sheared-LLaMA, METHODS.md §2). Attention heads are
 * gated GQA-aware by two factors: a gate per key/value group and a gate per query head; the gate at
 * head h's site is their product {@code z_group(h / groupSize) · z_head(h)}, so whole groups and
 * heads inside groups are learned separately and every finalised layer keeps a valid grouping.
 */
public enum GateAxis {
    /** Residual-stream channels: one row of [dim]. */
    HIDDEN,
    /** Key/value groups: a row of [numKvHeads] per layer. */
    KV_GROUP,
    /** Query heads inside their group: a row of [numHeads] per layer. */
    HEAD,
    /** SwiGLU neurons: a row of [ffnDim] per layer. */
    FFN,
    /** Attention sub-layers: one row of [numLayers]. */
    ATTENTION_LAYER,
    /** FFN sub-layers: one row of [numLayers]. */
    FFN_LAYER;

    /** The lower-case name used in files and reports, e.g. {@code kv_group}. */
    public String key() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
