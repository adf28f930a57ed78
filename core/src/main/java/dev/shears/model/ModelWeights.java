package dev.shears.model;


/**
 * All fp32 weights of a model, addressed by {@link TensorRole} and layer. Each tensor is a flat
 * row-major {@code float[]} whose shape is {@code role.shape(config, layer)}. A tied LM head is the
 * embedding array itself, so its gradient and its slicing are shared automatically.
 */
public final class ModelWeights {
    private final ModelConfig config;
    private final float[][] global;
    private final float[][][] layers;

    private ModelWeights(ModelConfig config) {
        this.config = config;
        this.global = new float[TensorRole.values().length][];
        this.layers = new float[config.numLayers()][TensorRole.values().length][];
    }

    /** Every present tensor allocated and zero. */
    public static ModelWeights zeros(ModelConfig config) {
        ModelWeights w = new ModelWeights(config);
        for (TensorRole role : TensorRole.values()) {
            if (!role.isStored(config)) continue;
            if (role.perLayer) {
                for (int l = 0; l < config.numLayers(); l++) {
                    if (role.isPresent(config, l)) w.layers[l][role.ordinal()] = new float[Math.toIntExact(role.size(config, l))];
                }
            } else {
                w.global[role.ordinal()] = new float[Math.toIntExact(role.size(config, -1))];
            }
        }
        return w;
    }

    public ModelConfig config() {
        return config;
    }

    /** A model-level tensor (embedding, final norm, LM head). */
    public float[] get(TensorRole role) {
        if (role.perLayer) throw new IllegalArgumentException(role + " is per layer");
        if (role == TensorRole.LM_HEAD && config.tiedEmbeddings()) return global[TensorRole.EMBEDDING.ordinal()];
        return require(global[role.ordinal()], role, -1);
    }

    /** A per-layer tensor. */
    public float[] get(TensorRole role, int layer) {
        if (!role.perLayer) return get(role);
        return require(layers[layer][role.ordinal()], role, layer);
    }

    /** Replaces a tensor's values; the length must match the table's shape. */
    public void set(TensorRole role, int layer, float[] values) {
        float[] target = get(role, layer);
        if (values.length != target.length) {
            throw new IllegalArgumentException(role + (role.perLayer ? " of layer " + layer : "") + " has " + target.length
                    + " elements, got " + values.length);
        }
        System.arraycopy(values, 0, target, 0, values.length);
    }

    /** Visits every stored tensor once (a tied LM head is not visited separately); layer is -1 for model-level tensors. */
    public void forEach(TensorVisitor visitor) {
        for (TensorRole role : TensorRole.values()) {
            if (!role.isStored(config)) continue;
            if (role.perLayer) {
                for (int l = 0; l < config.numLayers(); l++) {
                    if (role.isPresent(config, l)) visitor.visit(role, l, layers[l][role.ordinal()]);
                }
            } else {
                visitor.visit(role, -1, global[role.ordinal()]);
            }
        }
    }

    /** A deep copy. */
    public ModelWeights copy() {
        ModelWeights copy = zeros(config);
        forEach((role, layer, values) -> copy.set(role, layer, values));
        return copy;
    }

    /** Receives one tensor. */
    @FunctionalInterface
    public interface TensorVisitor {
        void visit(TensorRole role, int layer, float[] values);
    }

    private float[] require(float[] tensor, TensorRole role, int layer) {
        if (tensor == null) {
            throw new IllegalStateException("model has no " + role + (layer >= 0 ? " in layer " + layer : ""));
        }
        return tensor;
    }

}
