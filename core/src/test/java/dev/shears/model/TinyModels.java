package dev.shears.model;

import java.util.List;
import java.util.Random;

/** Small seeded random models for tests. */
public final class TinyModels {
    private TinyModels() {
    }

    /** A GQA model with non-trivial weights; biases and untied head when asked. */
    public static Model random(ModelConfig config, long seed) {
        Model model = Model.zeros(config);
        Random r = new Random(seed);
        model.weights().forEach((role, layer, values) -> {
            boolean norm = role == TensorRole.ATTENTION_NORM || role == TensorRole.FFN_NORM || role == TensorRole.FINAL_NORM;
            // embeddings of unit scale keep RMSNorm's curvature small against finite-difference steps
            float std = role == TensorRole.EMBEDDING ? 0.5f : 0.08f;
            for (int i = 0; i < values.length; i++) {
                values[i] = norm ? 1 + 0.1f * (float) r.nextGaussian() : std * (float) r.nextGaussian();
            }
        });
        return model;
    }

    public static ModelConfig gqa() {
        return ModelConfig.uniform(Architecture.LLAMA, 24, 3, 4, 2, 6, 40, 50, 64, 1e-5f, 10000, true, false);
    }

    public static ModelConfig nonUniformWithBias() {
        return new ModelConfig(Architecture.QWEN2, 16, 4, 40,
                List.of(new LayerShape(4, 2, 24), new LayerShape(2, 1, 8), new LayerShape(0, 0, 16), new LayerShape(3, 3, 0)),
                1e-6f, 1e6, RopeScaling.NONE, 32, false, true, 1, 2);
    }
}
