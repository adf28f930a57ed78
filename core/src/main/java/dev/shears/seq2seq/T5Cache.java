package dev.shears.seq2seq;

import java.util.List;

/**
 * What decoding one T5 sequence token by token keeps ({@link T5#forwardCached}): each decoder layer's
 * cross-attention keys and values, computed once from the encoder output, and its self-attention keys
 * and values of the positions decoded so far.
 */
public final class T5Cache extends DecoderCache {
    private T5Cache(int srcLen, int capacity, List<KeyValues> cross, int[] selfInner) {
        super(srcLen, capacity, cross, selfInner);
    }

    /**
     * Runs the encoder on one sequence and projects its output to every decoder layer's cross-attention keys and values.
     *
     * @param inputIds [srcLen] encoder token ids
     * @param capacity the most decoder positions the cache will hold
     */
    public static T5Cache of(T5Model model, int[] inputIds, int capacity) {
        checkSizes(inputIds, capacity);
        T5Config c = model.config();
        int srcLen = inputIds.length;
        float[] encoderOut = T5.encode(model, inputIds);
        List<T5Weights.DecoderLayer> layers = model.weights().decoder();
        List<KeyValues> cross = layers.stream().map(layer -> {
            KeyValues kv = KeyValues.zeros(srcLen, layer.cross().heads() * c.headDim());
            T5.keyValues(c, layer.cross(), encoderOut, srcLen, kv);
            return kv;
        }).toList();
        return new T5Cache(srcLen, capacity, cross, layers.stream().mapToInt(layer -> layer.self().heads() * c.headDim()).toArray());
    }
}
