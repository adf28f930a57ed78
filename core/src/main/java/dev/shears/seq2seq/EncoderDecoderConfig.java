package dev.shears.seq2seq;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shears.format.hf.ConfigJson;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** What the two encoder–decoder configs ({@link T5Config}, {@link OpenBaConfig}) say alike of a model's shape, from config.json alone. */
public sealed interface EncoderDecoderConfig permits T5Config, OpenBaConfig {
    /** The residual width. */
    int dim();

    /** The width of one attention head. */
    int headDim();

    int vocabSize();

    boolean tiedEmbeddings();

    /** {@code decoder_start_token_id}: the decoder's first input. */
    int decoderStartToken();

    /** One shape per encoder layer (no cross-attention). */
    List<? extends Layer> encoder();

    /** One shape per decoder layer. */
    List<? extends Layer> decoder();

    /** The shape in words. */
    String describe();

    /** The parameters the model's weights hold, from the shape alone. */
    long parameterCount();

    /** A layer's widths. */
    interface Layer {
        /** Self-attention heads. */
        int numHeads();

        /** Cross-attention heads: 0 in the encoder, ≥ 1 in the decoder. */
        int crossHeads();

        /** Feed-forward width. */
        int ffnDim();
    }

    /**
     * The config in the config.json file {@code file} when its content says T5 or OpenBA, read and validated; empty for any
     * other model (a decoder-only config). A file that is not a JSON object is a one-line error naming it.
     */
    static Optional<EncoderDecoderConfig> readFile(Path file) {
        JsonNode n = ConfigJson.read(file, "a Hugging Face config").node();
        if (T5Config.says(n)) return Optional.of(T5Config.read(file));
        if (OpenBaConfig.says(n)) return Optional.of(OpenBaConfig.read(file));
        return Optional.empty();
    }

    /** The config of the encoder–decoder folder {@code model} (T5 or OpenBA), read alone; the weights are not opened. */
    static EncoderDecoderConfig read(Path model) {
        return T5Config.describes(model) ? T5Config.read(model.resolve("config.json")) : OpenBaConfig.read(model.resolve("config.json"));
    }
}
