package dev.shears.model;

/**
 * A decoder: its config and its weights (on the heap, or mapped from its files).
 *
 * @param config  the shape
 * @param weights tensors matching {@code config}
 */
public record Model(ModelConfig config, ModelWeights weights) implements AutoCloseable {
    public Model {
        if (weights.config() != config && !weights.config().equals(config)) {
            throw new IllegalArgumentException("weights were allocated for a different config");
        }
    }

    public static Model zeros(ModelConfig config) {
        return new Model(config, ModelWeights.zeros(config));
    }

    /** This model with every weight on the heap in fp32 (itself when they already are): what training needs. */
    public Model dense() {
        return weights.isDense() ? this : new Model(config, weights.copy());
    }

    /** Closes the files mapped weights live in. */
    @Override
    public void close() {
        weights.close();
    }
}
