package dev.shears.model;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The one vocabulary of prunable structures: tensor dimensions, gates, importance scores, pruning
 * plans, targets and stage settings are all keyed by it, so a new axis is declared here once
 * (docs/design.md, "Adding an axis"). A unit is what is kept or removed whole: a hidden channel, a
 * query head ({@code headDim} rows), a key/value head, an FFN neuron, an attention or FFN sub-layer,
 * a whole layer, a vocabulary entry. Per-layer axes have one row of units per decoder layer; the
 * others one row for the model.
 * <p>
 * The gated axes are the ones learned masks carry hard-concrete gates on (Sheared-LLaMA, METHODS.md §2),
 * declared first and in the order of the flat gate vector: {@link #KV_HEAD} gates whole key/value
 * groups and {@link #HEAD} query heads inside their group, so the gate at head h's site is
 * {@code z_kv(h / groupSize) · z_head(h)}, and {@link #LAYER}'s gate multiplies both sub-layer gates of its layer.
 */
public enum Axis {
    /** Residual-stream channels, [dim]. */
    HIDDEN("hidden", false, null, true),
    /** Key/value heads (GQA groups) of one layer, [numKvHeads × headDim]. */
    KV_HEAD("kvHeads", true, SubLayer.ATTENTION, true),
    /** Query heads of one layer, [numHeads × headDim]. */
    HEAD("heads", true, SubLayer.ATTENTION, true),
    /** SwiGLU neurons of one layer, [ffnDim]. */
    FFN("ffn", true, SubLayer.FFN, true),
    /** Attention sub-layers: one unit per layer. */
    ATTENTION_LAYER("attentionLayers", false, SubLayer.ATTENTION, true),
    /** FFN sub-layers: one unit per layer. */
    FFN_LAYER("ffnLayers", false, SubLayer.FFN, true),
    /** Whole decoder layers: one unit per layer (its gate, where learned masks use one, scales both sub-layers). */
    LAYER("layers", false, null, true),
    /** Vocabulary entries, [vocabSize]. */
    VOCAB("vocab", false, null, false);

    private static final List<Axis> GATED = Arrays.stream(values()).filter(a -> a.gated).toList();

    /** The name in files, reports and JSON keys, e.g. {@code kvHeads}. */
    public final String key;
    /** One row of units per decoder layer (otherwise one row for the model). */
    public final boolean perLayer;
    /** The sub-layer a unit of this axis belongs to, or null for model-wide axes. */
    public final SubLayer subLayer;
    /** Learned masks carry a hard-concrete gate on every unit. */
    public final boolean gated;

    Axis(String key, boolean perLayer, SubLayer subLayer, boolean gated) {
        this.key = key;
        this.perLayer = perLayer;
        this.subLayer = subLayer;
        this.gated = gated;
    }

    /** The name on the command line, e.g. {@code kv-heads}. */
    public String option() {
        return key.replaceAll("([A-Z])", "-$1").toLowerCase(Locale.ROOT);
    }

    /** The gated axes in the order of the flat gate vector. */
    public static List<Axis> gatedAxes() {
        return GATED;
    }

    /** Whether a unit is a whole layer or sub-layer (depth pruning) rather than a part of one (width). */
    public boolean isDepth() {
        return this == LAYER || this == ATTENTION_LAYER || this == FFN_LAYER;
    }

    /** Rows of units in a model of this config. */
    public int rows(ModelConfig config) {
        return perLayer ? config.numLayers() : 1;
    }

    /** Units in one row ({@code row} is the layer for per-layer axes, ignored otherwise). */
    public int units(ModelConfig config, int row) {
        return switch (this) {
            case HIDDEN -> config.dim();
            case KV_HEAD -> config.layer(row).numKvHeads();
            case HEAD -> config.layer(row).numHeads();
            case FFN -> config.layer(row).ffnDim();
            case ATTENTION_LAYER, FFN_LAYER, LAYER -> config.numLayers();
            case VOCAB -> config.vocabSize();
        };
    }

    /** Elements of a tensor dimension per unit: {@code headDim} for heads, 1 otherwise. */
    public int unitWidth(ModelConfig config) {
        return this == HEAD || this == KV_HEAD ? config.headDim() : 1;
    }

    /** Whether unit {@code unit} of row {@code row} exists in the model: a sub-layer axis has no unit where the layer lost that sub-layer. */
    public boolean exists(ModelConfig config, int row, int unit) {
        return switch (this) {
            case ATTENTION_LAYER, FFN_LAYER -> subLayer.isIn(config.layer(unit));
            default -> true;
        };
    }
}
