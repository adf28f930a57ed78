package dev.shears.model;

/**
 * The one table of weight tensors: every tensor's role, shape and the prunable axis of each of its
 * dimensions. Slicing, parameter counts, expected size under masks and the file-format name maps
 * all read this table, so they cannot disagree. Matrices are stored row-major in PyTorch
 * {@code nn.Linear} layout, {@code [outFeatures, inFeatures]}.
 */
public enum TensorRole {
    EMBEDDING(null, Axis.VOCAB, Axis.HIDDEN),
    ATTENTION_NORM(SubLayer.ATTENTION, Axis.HIDDEN),
    QUERY(SubLayer.ATTENTION, Axis.HEAD, Axis.HIDDEN),
    KEY(SubLayer.ATTENTION, Axis.KV_HEAD, Axis.HIDDEN),
    VALUE(SubLayer.ATTENTION, Axis.KV_HEAD, Axis.HIDDEN),
    QUERY_BIAS(SubLayer.ATTENTION, Axis.HEAD),
    KEY_BIAS(SubLayer.ATTENTION, Axis.KV_HEAD),
    VALUE_BIAS(SubLayer.ATTENTION, Axis.KV_HEAD),
    OUTPUT(SubLayer.ATTENTION, Axis.HIDDEN, Axis.HEAD),
    FFN_NORM(SubLayer.FFN, Axis.HIDDEN),
    GATE(SubLayer.FFN, Axis.FFN, Axis.HIDDEN),
    UP(SubLayer.FFN, Axis.FFN, Axis.HIDDEN),
    DOWN(SubLayer.FFN, Axis.HIDDEN, Axis.FFN),
    FINAL_NORM(null, Axis.HIDDEN),
    LM_HEAD(null, Axis.VOCAB, Axis.HIDDEN);

    /** One tensor per decoder layer, or one per model. */
    public final boolean perLayer;
    /** The sub-layer a per-layer tensor belongs to (it goes when that sub-layer is removed); null for model-level tensors. */
    public final SubLayer subLayer;
    private final Axis[] axes;

    TensorRole(SubLayer subLayer, Axis... axes) {
        this.perLayer = subLayer != null;
        this.subLayer = subLayer;
        this.axes = axes;
    }

    /** The prunable axis of each dimension, outermost first. */
    public Axis[] axes() {
        return axes.clone();
    }

    public int rank() {
        return axes.length;
    }

    /** Whether a model of this config has this tensor in any layer (biases only with {@code attentionBias}). */
    public boolean isPresent(ModelConfig config) {
        return switch (this) {
            case QUERY_BIAS, KEY_BIAS, VALUE_BIAS -> config.attentionBias();
            default -> true;
        };
    }

    /** Whether this tensor is stored on its own (a tied LM head is the embedding, not a second tensor). */
    public boolean isStored(ModelConfig config) {
        return isPresent(config) && !(this == LM_HEAD && config.tiedEmbeddings());
    }

    /** Whether layer {@code layer} has this tensor: a layer whose attention or FFN was removed has none of its weights. */
    public boolean isPresent(ModelConfig config, int layer) {
        if (!isPresent(config)) return false;
        return !perLayer || subLayer.isIn(config.layer(layer));
    }

    /** The length of one dimension along an axis in a given layer. */
    public static int extent(ModelConfig config, int layer, Axis axis) {
        return axis.units(config, layer) * axis.unitWidth(config);
    }

    /** The shape of this tensor in layer {@code layer} (ignored for model-level roles). */
    public int[] shape(ModelConfig config, int layer) {
        int[] shape = new int[axes.length];
        for (int i = 0; i < axes.length; i++) shape[i] = extent(config, layer, axes[i]);
        return shape;
    }

    /** Rows of this tensor as a matrix in layer {@code layer}: its first dimension, or 1 for a vector. */
    public int rows(ModelConfig config, int layer) {
        return axes.length == 2 ? extent(config, layer, axes[0]) : 1;
    }

    /** Columns of this tensor as a matrix in layer {@code layer}: its last dimension. */
    public int cols(ModelConfig config, int layer) {
        return extent(config, layer, axes[axes.length - 1]);
    }

    /** Element count, 0 where the tensor is absent. */
    public long size(ModelConfig config, int layer) {
        if (!isPresent(config, layer)) return 0;
        long n = 1;
        for (int d : shape(config, layer)) n *= d;
        return n;
    }

    /** Element count over all layers (or of the one global tensor), 0 where absent. */
    public long totalSize(ModelConfig config) {
        if (!perLayer) return size(config, -1);
        long total = 0;
        for (int l = 0; l < config.numLayers(); l++) total += size(config, l);
        return total;
    }
}
