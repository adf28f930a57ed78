package dev.shears.seq2seq;

/**
 * One attention layer's keys and values: what decoding keeps per layer ({@link DecoderCache}), and what each
 * architecture's key/value projection fills ({@code T5.keyValues}, {@code OpenBa.crossKeyValues}).
 *
 * @param keys   [rows, heads·headDim]
 * @param values [rows, heads·headDim]
 */
record KeyValues(float[] keys, float[] values) {
    /** Zeros for {@code rows} positions of {@code inner} = heads·headDim, to be filled. */
    static KeyValues zeros(int rows, int inner) {
        return new KeyValues(new float[rows * inner], new float[rows * inner]);
    }
}
