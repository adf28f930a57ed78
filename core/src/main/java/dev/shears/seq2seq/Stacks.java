package dev.shears.seq2seq;

import java.util.List;

/** The checks T5 and OpenBA configs make alike of their two stacks of layers and their special tokens. */
final class Stacks {
    private Stacks() {
    }

    /** "NAME e+d layers, d_model D, heads H × K, ffn F (FEED), vocab V", a range where layers differ. */
    static String describe(String name, List<? extends EncoderDecoderConfig.Layer> encoder, List<? extends EncoderDecoderConfig.Layer> decoder, int dim, int headDim, String feedForward, int vocabSize) {
        java.util.IntSummaryStatistics heads = java.util.stream.Stream.concat(encoder.stream(), decoder.stream()).mapToInt(EncoderDecoderConfig.Layer::numHeads).summaryStatistics();
        java.util.IntSummaryStatistics ffn = java.util.stream.Stream.concat(encoder.stream(), decoder.stream()).mapToInt(EncoderDecoderConfig.Layer::ffnDim).summaryStatistics();
        return name + " " + encoder.size() + "+" + decoder.size() + " layers, d_model " + dim + ", heads " + range(heads) + " × " + headDim + ", ffn "
                + range(ffn) + " (" + feedForward + "), vocab " + vocabSize;
    }

    private static String range(java.util.IntSummaryStatistics s) {
        return s.getMin() == s.getMax() ? String.valueOf(s.getMin()) : s.getMin() + "–" + s.getMax();
    }

    /**
     * Both stacks have layers, encoder layers no cross-attention, decoder layers some, and the decoder's start and
     * pad tokens are in the vocabulary.
     */
    static void check(List<? extends EncoderDecoderConfig.Layer> encoder, List<? extends EncoderDecoderConfig.Layer> decoder, int vocabSize, int decoderStartToken, int padToken) {
        if (encoder.isEmpty() || decoder.isEmpty()) throw new IllegalArgumentException("needs at least one encoder and one decoder layer");
        for (int id : new int[]{decoderStartToken, padToken}) {
            if (id < 0 || id >= vocabSize) throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + vocabSize);
        }
        for (EncoderDecoderConfig.Layer b : encoder) {
            if (b.crossHeads() != 0) throw new IllegalArgumentException("encoder layers have no cross-attention, got num_cross_heads " + b.crossHeads());
        }
        for (EncoderDecoderConfig.Layer b : decoder) {
            if (b.crossHeads() == 0) throw new IllegalArgumentException("a decoder layer needs num_cross_heads ≥ 1");
        }
    }
}
