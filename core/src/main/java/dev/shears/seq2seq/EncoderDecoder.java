package dev.shears.seq2seq;

import java.nio.file.Path;
import java.util.Optional;

/**
 * An encoder–decoder as the commands that read one use it ({@code shears score}, {@code generate}, {@code eval}):
 * teacher-forced logits of one sequence's labels, and decoding one token at a time after encoding once. T5 and
 * OpenBA implement it; each keeps its own forward, backward and cache ({@link T5}, {@link OpenBa}).
 */
public sealed interface EncoderDecoder permits T5Model, OpenBaModel {
    /** The model's shape. */
    EncoderDecoderConfig config();

    /** Rows of the LM head. */
    default int vocabSize() {
        return config().vocabSize();
    }

    /** {@code decoder_start_token_id}: the decoder's first input. */
    default int decoderStartToken() {
        return config().decoderStartToken();
    }

    /** The most tokens the model reads on each side: the encoder input and the labels are cut to their last this many. */
    int maxLength();

    /** The shape in words. */
    default String describe() {
        return config().describe();
    }

    /** Every parameter, a tied head once. */
    default long parameterCount() {
        return config().parameterCount();
    }

    /**
     * The logits under teacher forcing of one sequence: the encoder reads {@code inputIds}, the decoder
     * {@code decoder_start_token_id} then {@code labels} shifted right.
     *
     * @return [labels.length, vocabSize]
     */
    float[] logits(int[] inputIds, int[] labels);

    /** Encodes {@code inputIds} once, for up to {@code capacity} decoder steps. */
    Decoding decode(int[] inputIds, int capacity);

    /** The decoder of one encoded sequence, one token at a time with cached keys and values. */
    interface Decoding {
        /** Feeds the decoder its next input; returns [vocabSize] logits of the token after it. */
        float[] next(int token);

        /** Whether every step the cache holds is used. */
        boolean full();
    }

    /** A decoding over {@code cache} whose steps {@code next} takes (the architecture's cached forward). */
    static Decoding decoding(DecoderCache cache, java.util.function.IntFunction<float[]> next) {
        return new Decoding() {
            @Override
            public float[] next(int token) {
                return next.apply(token);
            }

            @Override
            public boolean full() {
                return cache.length() >= cache.capacity();
            }
        };
    }

    /** The encoder–decoder in folder {@code model}, when its config.json says T5 or OpenBA; else empty (a decoder-only model, or not a folder). */
    static Optional<EncoderDecoder> load(Path model) {
        if (T5Config.describes(model)) return Optional.of(T5Model.load(model));
        if (OpenBaConfig.describes(model)) return Optional.of(OpenBaModel.load(model));
        return Optional.empty();
    }

    /** Whether {@code model} is an encoder–decoder folder {@link #load} reads, from its config.json alone. */
    static boolean describes(Path model) {
        return T5Config.describes(model) || OpenBaConfig.describes(model);
    }
}
