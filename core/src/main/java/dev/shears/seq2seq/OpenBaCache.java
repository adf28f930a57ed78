package dev.shears.seq2seq;

import dev.shears.kernel.MatMul;
import dev.shears.kernel.RopeTable;

/**
 * What decoding one sequence token by token keeps ({@link OpenBa#forwardCached}), as the published
 * {@code past_key_values}: each decoder layer's cross-attention keys and values, computed once from the encoder
 * output through the fused {@code inter_attn.kv}, and its self-attention keys (already rotated) and values of the
 * positions decoded so far.
 */
public final class OpenBaCache {
    private final int srcLen;
    private final int capacity;
    private final RopeTable rope;        // positions [0, capacity)
    private final float[][] crossKeys;   // per decoder layer [srcLen, crossHeads·headDim]
    private final float[][] crossValues; // per decoder layer [srcLen, crossHeads·headDim]
    private final float[][] keys;        // per decoder layer [capacity, heads·headDim], rotated
    private final float[][] values;      // per decoder layer [capacity, heads·headDim]
    private int length;

    private OpenBaCache(OpenBaConfig c, int srcLen, int capacity) {
        this.srcLen = srcLen;
        this.capacity = capacity;
        rope = OpenBa.ropeTable(c);
        rope.ensure(capacity);
        int layers = c.decoder().size();
        crossKeys = new float[layers][];
        crossValues = new float[layers][];
        keys = new float[layers][];
        values = new float[layers][];
    }

    /**
     * Runs the encoder on one sequence and projects its output to every decoder layer's cross-attention keys and values.
     *
     * @param inputIds [srcLen] encoder token ids, at most max_seq_length
     * @param capacity the most decoder positions the cache will hold, at most decoder_max_seq_length
     */
    public static OpenBaCache of(OpenBaModel model, int[] inputIds, int capacity) {
        OpenBaConfig c = model.config();
        if (inputIds.length == 0 || capacity <= 0) throw new IllegalArgumentException("needs at least one input token and one decoder position");
        if (inputIds.length > c.maxSrcLen() || capacity > c.maxTgtLen()) {
            throw new IllegalArgumentException(inputIds.length + " input tokens and " + capacity + " decoder positions must be within max_seq_length "
                    + c.maxSrcLen() + " and decoder_max_seq_length " + c.maxTgtLen());
        }
        int d = c.dim();
        int srcLen = inputIds.length;
        OpenBaPass p = new OpenBaPass(c, 1, srcLen, 0, inputIds, new int[0]);
        OpenBa.encoder(c, model.weights(), p);
        OpenBaCache cache = new OpenBaCache(c, srcLen, capacity);
        for (int l = 0; l < c.decoder().size(); l++) {
            OpenBaWeights.DecoderLayer layer = model.weights().decoder().get(l);
            int crossInner = layer.cross().heads() * c.headDim();
            float[] kv = new float[srcLen * 2 * crossInner];
            MatMul.forward(kv, p.encoderOut, layer.cross().keyValue(), layer.cross().keyValueBias(), srcLen, d, 2 * crossInner);
            cache.crossKeys[l] = new float[srcLen * crossInner];
            cache.crossValues[l] = new float[srcLen * crossInner];
            FusedRows.split(kv, new float[][]{cache.crossKeys[l], cache.crossValues[l]}, srcLen, layer.cross().heads(), c.headDim());
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

    RopeTable rope() {
        return rope;
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
