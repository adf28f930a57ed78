package dev.shears.seq2seq;

import java.nio.file.Path;

/**
 * An OpenBA encoder–decoder: its shape and its fp32 weights.
 *
 * @param config  the validated shape
 * @param weights every tensor, in the shapes of {@code config}
 */
public record OpenBaModel(OpenBaConfig config, OpenBaWeights weights) {
    /** A Hugging Face OpenBAForConditionalGeneration folder: config.json and model.safetensors or pytorch_model.bin. */
    public static OpenBaModel load(Path dir) {
        OpenBaConfig config = OpenBaConfig.read(dir.resolve("config.json"));
        return new OpenBaModel(config, OpenBaWeights.load(dir, config));
    }
}
