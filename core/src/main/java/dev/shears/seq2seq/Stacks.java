package dev.shears.seq2seq;

import java.util.List;

/** The checks T5 and OpenBA configs make alike of their two stacks of layers and their special tokens. */
final class Stacks {
    private Stacks() {
    }

    /** What a layer of either stack says of its attention heads ({@link T5Config.Block}, {@link OpenBaConfig.Block}). */
    interface Layer {
        /** Self-attention heads. */
        int numHeads();

        /** Cross-attention heads: 0 in the encoder, ≥ 1 in the decoder. */
        int crossHeads();
    }

    /**
     * Both stacks have layers, encoder layers no cross-attention, decoder layers some, and the decoder's start and
     * pad tokens are in the vocabulary.
     */
    static void check(List<? extends Layer> encoder, List<? extends Layer> decoder, int vocabSize, int decoderStartToken, int padToken) {
        if (encoder.isEmpty() || decoder.isEmpty()) throw new IllegalArgumentException("needs at least one encoder and one decoder layer");
        for (int id : new int[]{decoderStartToken, padToken}) {
            if (id < 0 || id >= vocabSize) throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + vocabSize);
        }
        for (Layer b : encoder) {
            if (b.crossHeads() != 0) throw new IllegalArgumentException("encoder layers have no cross-attention, got num_cross_heads " + b.crossHeads());
        }
        for (Layer b : decoder) {
            if (b.crossHeads() == 0) throw new IllegalArgumentException("a decoder layer needs num_cross_heads ≥ 1");
        }
    }
}
