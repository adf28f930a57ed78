package dev.shears.seq2seq;

import java.nio.file.Path;

/**
 * A T5 encoder–decoder: its shape and its fp32 weights.
 *
 * @param config  the validated shape
 * @param weights every tensor, in the shapes of {@code config}
 */
public record T5Model(T5Config config, T5Weights weights) {
    /** A Hugging Face T5ForConditionalGeneration folder: config.json and model.safetensors or pytorch_model.bin (single or sharded). */
    public static T5Model load(Path dir) {
        T5Config config = T5Config.read(dir.resolve("config.json"));
        return new T5Model(config, T5Weights.load(dir, config));
    }
}
