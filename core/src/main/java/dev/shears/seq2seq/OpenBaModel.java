package dev.shears.seq2seq;

import java.nio.file.Path;

/**
 * An OpenBA encoder–decoder: its shape and its fp32 weights.
 *
 * @param config  the validated shape
 * @param weights every tensor, in the shapes of {@code config}
 */
public record OpenBaModel(OpenBaConfig config, OpenBaWeights weights) implements EncoderDecoder {
    /** A Hugging Face OpenBAForConditionalGeneration folder: config.json and model.safetensors or pytorch_model.bin. */
    public static OpenBaModel load(Path dir) {
        OpenBaConfig config = OpenBaConfig.read(dir.resolve("config.json"));
        return new OpenBaModel(config, OpenBaWeights.load(dir, config));
    }

    /** The shorter of the two rotary tables ({@code max_seq_length}, {@code decoder_max_seq_length}): neither side may pass its own. */
    @Override
    public int maxLength() {
        return Math.min(config.maxSrcLen(), config.maxTgtLen());
    }

    @Override
    public float[] logits(int[] inputIds, int[] labels) {
        return OpenBa.forward(this, inputIds, labels, 1, inputIds.length, labels.length).logits();
    }

    @Override
    public Decoding decode(int[] inputIds, int capacity) {
        OpenBaCache cache = OpenBaCache.of(this, inputIds, capacity);
        return EncoderDecoder.decoding(cache, token -> OpenBa.forwardCached(this, cache, token));
    }
}
