package dev.shears.seq2seq;

import java.nio.file.Path;

/**
 * A T5 encoder–decoder: its shape and its fp32 weights.
 *
 * @param config  the validated shape
 * @param weights every tensor, in the shapes of {@code config}
 */
public record T5Model(T5Config config, T5Weights weights) implements EncoderDecoder {
    /**
     * The positions lm-eval gives a T5 (its {@code max_length}: transformers' T5Config {@code n_positions}, 512, which
     * T5 folders leave at the default; relative positions set no hard limit).
     */
    static final int MAX_LENGTH = 512;

    /** A Hugging Face T5ForConditionalGeneration folder: config.json and model.safetensors or pytorch_model.bin (single or sharded). */
    public static T5Model load(Path dir) {
        T5Config config = T5Config.read(dir.resolve("config.json"));
        return new T5Model(config, T5Weights.load(dir, config));
    }

    @Override
    public int maxLength() {
        return MAX_LENGTH;
    }

    @Override
    public float[] logits(int[] inputIds, int[] labels) {
        return T5.forward(this, inputIds, labels, 1, inputIds.length, labels.length).logits();
    }

    @Override
    public Decoding decode(int[] inputIds, int capacity) {
        T5Cache cache = T5Cache.of(this, inputIds, capacity);
        return EncoderDecoder.decoding(cache, token -> T5.forwardCached(this, cache, token));
    }
}
