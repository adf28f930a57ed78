package dev.shears.model;

/**
 * A decoder: its config and its fp32 weights.
 *
 * @param config  the shape
 * @param weights tensors matching {@code config}
 */
public record Model(ModelConfig config, ModelWeights weights) {
    public Model {
        if (weights.config() != config && !weights.config().equals(config)) {
            throw new IllegalArgumentException("weights were allocated for a different config");
        }
    }

    public static Model zeros(ModelConfig config) {
        return new Model(config, ModelWeights.zeros(config));
    }
}
