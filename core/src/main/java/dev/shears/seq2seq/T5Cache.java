package dev.shears.seq2seq;

import dev.shears.kernel.MatMul;

/**
 * What decoding one sequence token by token keeps ({@link T5#forwardCached}): each decoder layer's
 * cross-attention keys and values, computed once from the encoder output, and its self-attention keys
 * and values of the positions decoded so far.
 */
public final class T5Cache {
    private final int srcLen;
    private final int capacity;
    private final float[][] crossKeys;   // per decoder layer [srcLen, crossHeads·headDim]
    private final float[][] crossValues; // per decoder layer [srcLen, crossHeads·headDim]
    private final float[][] keys;        // per decoder layer [capacity, heads·headDim]
    private final float[][] values;      // per decoder layer [capacity, heads·headDim]
    private int length;

    private T5Cache(int srcLen, int capacity, int layers) {
        this.srcLen = srcLen;
        this.capacity = capacity;
        crossKeys = new float[layers][];
        crossValues = new float[layers][];
        keys = new float[layers][];
        values = new float[layers][];
    }

    /**
     * Runs the encoder on one sequence and projects its output to every decoder layer's cross-attention keys and values.
     *
     * @param inputIds [srcLen] encoder token ids
     * @param capacity the most decoder positions the cache will hold
     */
    public static T5Cache of(T5Model model, int[] inputIds, int capacity) {
        if (inputIds.length == 0 || capacity <= 0) throw new IllegalArgumentException("needs at least one input token and one decoder position");
        T5Config c = model.config();
        int d = c.dim();
        int srcLen = inputIds.length;
        float[] encoderOut = T5.encode(model, inputIds);
        T5Cache cache = new T5Cache(srcLen, capacity, c.decoder().size());
        for (int l = 0; l < c.decoder().size(); l++) {
            T5Weights.DecoderLayer layer = model.weights().decoder().get(l);
            int crossInner = layer.cross().heads() * c.headDim();
            cache.crossKeys[l] = new float[srcLen * crossInner];
            cache.crossValues[l] = new float[srcLen * crossInner];
            MatMul.forward(cache.crossKeys[l], encoderOut, layer.cross().key(), srcLen, d, crossInner);
            MatMul.forward(cache.crossValues[l], encoderOut, layer.cross().value(), srcLen, d, crossInner);
            int inner = layer.self().heads() * c.headDim();
            cache.keys[l] = new float[capacity * inner];
            cache.values[l] = new float[capacity * inner];
        }
        return cache;
    }

    /** Decoder positions already cached: the position of the next token. */
    public int length() {
        return length;
    }

    public int capacity() {
        return capacity;
    }

    int srcLen() {
        return srcLen;
    }

    float[] crossKeys(int layer) {
        return crossKeys[layer];
    }

    float[] crossValues(int layer) {
        return crossValues[layer];
    }

    float[] keys(int layer) {
        return keys[layer];
    }

    float[] values(int layer) {
        return values[layer];
    }

    void advance() {
        length++;
    }
}
