package dev.shears.seq2seq;

import dev.shears.kernel.RopeTable;

import java.util.List;

/**
 * What decoding one OpenBA sequence token by token keeps ({@link OpenBa#forwardCached}), as the published
 * {@code past_key_values}: each decoder layer's cross-attention keys and values, computed once from the encoder
 * output through the fused {@code inter_attn.kv}, and its self-attention keys (already rotated) and values of the
 * positions decoded so far; and the rotary table of the decoder positions.
 */
public final class OpenBaCache extends DecoderCache {
    private final RopeTable rope;        // positions [0, capacity)

    private OpenBaCache(OpenBaConfig c, int srcLen, int capacity, List<KeyValues> cross, int[] selfInner) {
        super(srcLen, capacity, cross, selfInner);
        rope = OpenBa.ropeTable(c);
        rope.ensure(capacity);
    }

    /**
     * Runs the encoder on one sequence and projects its output to every decoder layer's cross-attention keys and values.
     *
     * @param inputIds [srcLen] encoder token ids, at most max_seq_length
     * @param capacity the most decoder positions the cache will hold, at most decoder_max_seq_length
     */
    public static OpenBaCache of(OpenBaModel model, int[] inputIds, int capacity) {
        OpenBaConfig c = model.config();
        checkSizes(inputIds, capacity);
        if (inputIds.length > c.maxSrcLen() || capacity > c.maxTgtLen()) {
            throw new IllegalArgumentException(inputIds.length + " input tokens and " + capacity + " decoder positions must be within max_seq_length "
                    + c.maxSrcLen() + " and decoder_max_seq_length " + c.maxTgtLen());
        }
        int srcLen = inputIds.length;
        OpenBaPass p = new OpenBaPass(c, 1, srcLen, 0, inputIds, OpenBa.allVisible(1, srcLen), new int[0]);
        OpenBa.encoder(c, model.weights(), p);
        List<OpenBaWeights.DecoderLayer> layers = model.weights().decoder();
        List<KeyValues> cross = layers.stream().map(layer -> {
            KeyValues kv = KeyValues.zeros(srcLen, layer.cross().heads() * c.headDim());
            OpenBa.crossKeyValues(c, layer.cross(), p.encoderOut, srcLen, kv);
            return kv;
        }).toList();
        return new OpenBaCache(c, srcLen, capacity, cross, layers.stream().mapToInt(layer -> layer.self().heads() * c.headDim()).toArray());
    }

    RopeTable rope() {
        return rope;
    }
}
