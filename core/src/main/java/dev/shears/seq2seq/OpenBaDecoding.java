package dev.shears.seq2seq;

import dev.shears.kernel.BiasedAttention;
import dev.shears.kernel.BiasedAttention.Mask;
import dev.shears.kernel.Embedding;
import dev.shears.kernel.LayerNorm;
import dev.shears.kernel.MatMul;
import dev.shears.kernel.Rope;

/** OpenBA's decoding one token at a time ({@link OpenBa#forwardCached}), beside the teacher-forced forward and backward of {@link OpenBa}. */
final class OpenBaDecoding {
    private OpenBaDecoding() {
    }

    /**
     * One decoder step with cached keys and values, as the published generation with {@code use_cache}: the token
     * at position {@code t = cache.length()} is rotated at position t (the published {@code position_ids} start at
     * the past length), attends to the cached self-attention keys of the positions before it and its own, and to
     * the encoder through the cross-attention keys and values computed once in {@link OpenBaCache#of}.
     *
     * @param token the decoder input at this position (decoder_start_token_id first)
     * @return [vocabSize] the logits of the next token
     */
    static float[] step(OpenBaModel model, OpenBaCache cache, int token) {
        OpenBaConfig c = model.config();
        OpenBaWeights w = model.weights();
        int d = c.dim();
        int hd = c.headDim();
        int t = cache.nextPosition();
        float[] x = new float[d];
        Embedding.forward(x, new int[]{token}, w.shared(), d);
        for (int l = 0; l < w.decoder().size(); l++) {
            OpenBaWeights.DecoderLayer layer = w.decoder().get(l);
            OpenBaWeights.SelfAttention self = layer.self();
            int inner = self.heads() * hd;
            float[] qkv = new float[3 * inner];
            MatMul.forward(qkv, norm(c, x, self.norm()), self.qkv(), self.qkvBias(), 1, d, 3 * inner);
            float[] q = new float[inner];
            KeyValues step = KeyValues.zeros(1, inner);
            FusedRows.split(qkv, new float[][]{q, step.keys(), step.values()}, 1, self.heads(), hd);
            Rope.forward(q, 1, 1, t, self.heads(), hd, cache.rope());
            Rope.forward(step.keys(), 1, 1, t, self.heads(), hd, cache.rope());
            cache.store(l, step);
            x = attendCached(c, q, cache.self(l), t + 1, self.heads(), self.output(), self.outputBias(), x);
            OpenBaWeights.CrossAttention cross = layer.cross();
            float[] crossQ = new float[cross.heads() * hd];
            MatMul.forward(crossQ, norm(c, x, cross.norm()), cross.query(), cross.queryBias(), 1, d, crossQ.length);
            x = attendCached(c, crossQ, cache.cross(l), cache.srcLen(), cross.heads(), cross.output(), cross.outputBias(), x);
            EncoderDecoderMasks.Layer ones = EncoderDecoderMasks.Layer.filled(c.decoder().get(l), 1f);
            x = OpenBa.feedForward(c, layer.ffn(), new OpenBaPass.FeedForward(1, d, layer.ffn().ffnDim()), x, 1, ones.ffn(), 1f, EncoderDecoderMasks.ones(c).hidden());
        }
        cache.advance();
        float[] out = norm(c, x, w.decoderNorm());
        OpenBa.scale(out, c.headScale());
        float[] logits = new float[c.vocabSize()];
        MatMul.forward(logits, out, w.lmHead(), w.lmHeadBias(), 1, d, c.vocabSize());
        return logits;
    }

    /** One row through a LayerNorm: [dim]. */
    private static float[] norm(OpenBaConfig c, float[] x, OpenBaWeights.Norm n) {
        float[] out = new float[c.dim()];
        LayerNorm.forward(out, new float[1], new float[1], x, n.weight(), n.bias(), 1, c.dim(), OpenBaConfig.EPS);
        return out;
    }

    /** {@code x + o(attention(q/√headDim, keys, values))} for one query row [heads·headDim]; keys and values [≥ kLen, heads·headDim]. */
    private static float[] attendCached(OpenBaConfig c, float[] q, KeyValues kv, int kLen, int heads, float[] output,
                                        float[] outputBias, float[] x) {
        OpenBa.scale(q, OpenBa.queryScale(c));
        float[] ctx = new float[q.length];
        BiasedAttention.forward(ctx, new float[heads * kLen], q, kv.keys(), kv.values(), new float[heads * kLen], Mask.NONE, OpenBa.allVisible(1, kLen), 1, 1, kLen, heads, c.headDim());
        return OpenBa.output(c, ctx, output, outputBias, x, 1, q.length);
    }

}
