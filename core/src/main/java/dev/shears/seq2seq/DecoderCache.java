package dev.shears.seq2seq;

import java.util.Arrays;
import java.util.List;

/**
 * What decoding one sequence token by token keeps, for either encoder–decoder ({@link T5Cache},
 * {@link OpenBaCache}): each decoder layer's cross-attention keys and values, computed once from the encoder
 * output, and its self-attention keys and values of the positions decoded so far.
 */
public abstract sealed class DecoderCache permits T5Cache, OpenBaCache {
    private final int srcLen;
    private final int capacity;
    private final List<KeyValues> cross; // per decoder layer [srcLen, crossHeads·headDim]
    private final List<KeyValues> self;  // per decoder layer [capacity, heads·headDim]
    private int length;

    /**
     * @param cross     per decoder layer, the keys and values of the encoder output
     * @param selfInner per decoder layer, heads·headDim of its self-attention
     */
    DecoderCache(int srcLen, int capacity, List<KeyValues> cross, int[] selfInner) {
        this.srcLen = srcLen;
        this.capacity = capacity;
        this.cross = List.copyOf(cross);
        self = Arrays.stream(selfInner).mapToObj(inner -> KeyValues.zeros(capacity, inner)).toList();
    }

    /** Refuses an empty input or a cache without room for a token. */
    static void checkSizes(int[] inputIds, int capacity) {
        if (inputIds.length == 0 || capacity <= 0) throw new IllegalArgumentException("needs at least one input token and one decoder position");
    }

    /** Decoder positions already cached: the position of the next token. */
    public int length() {
        return length;
    }

    public int capacity() {
        return capacity;
    }

    /** The position of the token about to be decoded; a full cache refuses it. */
    int nextPosition() {
        if (length >= capacity) throw new IllegalStateException("the cache holds " + capacity + " positions; all are used");
        return length;
    }

    int srcLen() {
        return srcLen;
    }

    /** [srcLen, crossHeads·headDim] each: layer's cross-attention keys and values. */
    KeyValues cross(int layer) {
        return cross.get(layer);
    }

    /** [capacity, heads·headDim] each: layer's self-attention keys and values, rows [0, length) filled. */
    KeyValues self(int layer) {
        return self.get(layer);
    }

    /** Keeps the self-attention key and value rows [heads·headDim] of the token at {@link #nextPosition}. */
    void store(int layer, KeyValues token) {
        KeyValues kept = self.get(layer);
        int inner = token.keys().length;
        System.arraycopy(token.keys(), 0, kept.keys(), length * inner, inner);
        System.arraycopy(token.values(), 0, kept.values(), length * inner, inner);
    }

    void advance() {
        length++;
    }
}
