package dev.shears.model;

/**
 * The one table of weight tensors: every tensor's role, shape and the prunable axis of each of its
 * dimensions. Slicing, parameter counts, expected size under masks and the file-format name maps
 * all read this table, so they cannot disagree. Matrices are stored row-major in PyTorch
 * {@code nn.Linear} layout, {@code [outFeatures, inFeatures]}.
 */
public enum TensorRole {
    EMBEDDING(false, Axis.VOCAB, Axis.HIDDEN),
    ATTENTION_NORM(true, Axis.HIDDEN),
    QUERY(true, Axis.HEAD, Axis.HIDDEN),
    KEY(true, Axis.KV_HEAD, Axis.HIDDEN),
    VALUE(true, Axis.KV_HEAD, Axis.HIDDEN),
    QUERY_BIAS(true, Axis.HEAD),
    KEY_BIAS(true, Axis.KV_HEAD),
    VALUE_BIAS(true, Axis.KV_HEAD),
    OUTPUT(true, Axis.HIDDEN, Axis.HEAD),
    FFN_NORM(true, Axis.HIDDEN),
    GATE(true, Axis.FFN, Axis.HIDDEN),
    UP(true, Axis.FFN, Axis.HIDDEN),
    DOWN(true, Axis.HIDDEN, Axis.FFN),
    FINAL_NORM(false, Axis.HIDDEN),
    LM_HEAD(false, Axis.VOCAB, Axis.HIDDEN);

    /** One tensor per decoder layer, or one per model. */
    public final boolean perLayer;
    private final Axis[] axes;

    TensorRole(boolean perLayer, Axis... axes) {
        this.perLayer = perLayer;
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
        if (!perLayer) return true;
        LayerShape shape = config.layer(layer);
        return switch (this) {
            case ATTENTION_NORM, QUERY, KEY, VALUE, QUERY_BIAS, KEY_BIAS, VALUE_BIAS, OUTPUT -> shape.hasAttention();
            case FFN_NORM, GATE, UP, DOWN -> shape.hasFfn();
            default -> true;
        };
    }

    /** The length of one dimension along an axis in a given layer. */
    public static int extent(ModelConfig config, int layer, Axis axis) {
        return switch (axis) {
            case HIDDEN -> config.dim();
            case HEAD -> config.layer(layer).numHeads() * config.headDim();
            case KV_HEAD -> config.layer(layer).numKvHeads() * config.headDim();
            case FFN -> config.layer(layer).ffnDim();
            case VOCAB -> config.vocabSize();
        };
    }

    /** Units along an axis (heads, not head rows). */
    public static int units(ModelConfig config, int layer, Axis axis) {
        return switch (axis) {
            case HEAD -> config.layer(layer).numHeads();
            case KV_HEAD -> config.layer(layer).numKvHeads();
            default -> extent(config, layer, axis);
        };
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
