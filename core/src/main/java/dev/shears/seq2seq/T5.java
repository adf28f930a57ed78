package dev.shears.seq2seq;

import dev.shears.kernel.BiasedAttention;
import dev.shears.kernel.BiasedAttention.Mask;
import dev.shears.kernel.Embedding;
import dev.shears.kernel.GateScale;
import dev.shears.kernel.GeluNew;
import dev.shears.kernel.MatMul;
import dev.shears.kernel.RelativePositionBias;
import dev.shears.kernel.Relu;
import dev.shears.kernel.RmsNorm;

import java.util.Arrays;

/**
 * T5's forward and backward, as Hugging Face {@code T5ForConditionalGeneration} with teacher forcing
 * (Raffel et al. 2020, "Exploring the limits of transfer learning with a unified text-to-text
 * transformer"). {@link #forward} reads as the diagram; {@link #backward} is the same text in reverse.
 *
 * <pre>
 *   input_ids ─ shared ─┬─ [x + SelfAttn(norm x, bias_bidirectional)] ─ [x + FFN(norm x)] ─ × encoder layers ─ final norm ─► enc
 *   labels ─ shift right ─ shared ─ [x + SelfAttn(norm x, bias_causal)] ─ [x + CrossAttn(norm x, enc)] ─ [x + FFN(norm x)]
 *                                   ─ × decoder layers ─ final norm ─ × dim^-½ if tied ─ LM head ─► logits
 * </pre>
 *
 * Attention is not scaled by 1/√headDim; each stack's position bias comes from its block 0's table and
 * is added in every self-attention layer of the stack (each layer reads its heads' columns of the table,
 * {@link T5Config.Block#biasColumns}); cross-attention has none. Dropout is not applied
 * (the model is in eval mode; training T5 with dropout is a later step).
 */
public final class T5 {
    /** Hugging Face's label that is not scored (and becomes pad_token_id in the decoder input). */
    public static final int IGNORE_LABEL = Labels.IGNORE;

    private T5() {
    }

    /** {@link #forward(T5Model, int[], int[], int[], int, int, int)} without padding: every input token is seen. */
    public static T5Pass forward(T5Model model, int[] inputIds, int[] labels, int batch, int srcLen, int tgtLen) {
        int[] attentionMask = new int[inputIds.length];
        Arrays.fill(attentionMask, 1);
        return forward(model, inputIds, attentionMask, labels, batch, srcLen, tgtLen);
    }

    /**
     * One calibration window under teacher forcing: the encoder reads its first half, the decoder is forced on the rest
     * ({@link #windowLabels}), as pruning's calibration runs a window of text through an encoder–decoder.
     *
     * @param window at least 2 token ids
     */
    public static T5Pass forwardWindow(T5Model model, int[] window) {
        if (window.length < 2) throw new IllegalArgumentException("a calibration window needs at least 2 tokens, got " + window.length);
        int srcLen = window.length / 2;
        return forward(model, Arrays.copyOf(window, srcLen), windowLabels(window), 1, srcLen, window.length - srcLen);
    }

    /** The labels of {@link #forwardWindow}: the window's second half. */
    public static int[] windowLabels(int[] window) {
        return Arrays.copyOfRange(window, window.length / 2, window.length);
    }

    /**
     * Logits of every decoder position under teacher forcing.
     *
     * @param inputIds      [batch, srcLen] encoder token ids
     * @param attentionMask [batch, srcLen]: 1 for tokens, 0 for padding, which neither the encoder nor cross-attention sees
     * @param labels        [batch, tgtLen] target ids, or {@link #IGNORE_LABEL}
     * @return the pass: {@link T5Pass#logits()} is [batch·tgtLen, vocabSize]
     */
    public static T5Pass forward(T5Model model, int[] inputIds, int[] attentionMask, int[] labels, int batch, int srcLen, int tgtLen) {
        return forward(model, EncoderDecoderMasks.ones(model.config()), inputIds, attentionMask, labels, batch, srcLen, tgtLen);
    }

    /**
     * {@link #forward(T5Model, int[], int[], int[], int, int, int)} under learned L0 gates ({@link EncoderDecoderMasks}):
     * the hidden gates on the embedding and on every sub-layer's output, each layer's gate on its sub-layers' outputs,
     * head gates on each head's context before {@code o}, neuron gates on the activation before {@code wo}; every
     * T5LayerNorm takes its mean of squares over the channels whose hidden gate is non-zero.
     *
     * <pre>
     *   x = shared(ids) ⊙ g_hidden
     *   per layer l:  x = x + g_l · g_hidden ⊙ o( g_head ⊙ attention(norm x) )        (self; in the decoder also cross with g_cross)
     *                 x = x + g_l · g_hidden ⊙ wo( g_ffn ⊙ act(wi · norm x) )
     * </pre>
     *
     * @param masks the gates, kept in the pass for {@link #backward(T5Model, T5Pass, float[], T5Weights, EncoderDecoderMasks)}
     */
    public static T5Pass forward(T5Model model, EncoderDecoderMasks masks, int[] inputIds, int[] attentionMask, int[] labels, int batch, int srcLen, int tgtLen) {
        T5Config c = model.config();
        T5Weights w = model.weights();
        Labels.checkShape(inputIds, labels, batch, srcLen, tgtLen);
        Labels.checkIds(labels, c.vocabSize());
        int d = c.dim();
        int tgt = batch * tgtLen;
        T5Pass p = new T5Pass(c, batch, srcLen, tgtLen, inputIds, EncoderDecoderPass.visible(attentionMask, batch, srcLen), Labels.shiftRight(labels, batch, tgtLen, c.decoderStartToken(), c.padToken()));
        p.masks = masks;
        float[] hidden = masks.hidden();

        // encoder
        encoder(c, w, p);

        // decoder
        float[] x = new float[tgt * d];
        Embedding.forward(x, p.decoderIds, w.shared(), d);
        GatedResidual.scaleChannels(x, hidden, tgt, d);
        for (int l = 0; l < w.decoder().size(); l++) {
            T5Weights.DecoderLayer layer = w.decoder().get(l);
            EncoderDecoderMasks.Layer m = masks.decoder().get(l);
            T5Pass.Attention self = p.decoderSelf.get(l);
            RelativePositionBias.forward(self.bias, w.decoderBias(), p.decoderBuckets, c.decoder().get(l).columns(), c.biasHeads(), tgtLen, tgtLen);
            x = selfAttention(c, layer.self(), self, x, Mask.CAUSAL, p.targetVisible, batch, tgtLen, m.heads(), m.gate(), hidden);
            x = crossAttention(c, layer.cross(), p.decoderCross.get(l), x, p.encoderOut, p.sourceVisible, batch, tgtLen, srcLen, m.crossHeads(), m.gate(), hidden);
            x = feedForward(c, layer.ffn(), p.decoderFfn.get(l), x, tgt, m.ffn(), m.gate(), hidden);
        }
        p.decoderLast = x;
        RmsNorm.forwardMasked(p.decoderOut, p.decoderRstd, x, w.decoderNorm(), hidden, tgt, d, c.eps());

        // head
        float scale = c.headScale();
        for (int i = 0; i < p.headIn.length; i++) p.headIn[i] = p.decoderOut[i] * scale;
        MatMul.forward(p.logits, p.headIn, w.lmHead(), tgt, d, c.vocabSize());
        return p;
    }

    /** The encoder: fills {@code p.encoderOut} [batch·srcLen, dim] and what the backward pass needs on the way. */
    private static void encoder(T5Config c, T5Weights w, T5Pass p) {
        int d = c.dim();
        int src = p.batch * p.srcLen;
        float[] x = new float[src * d];
        Embedding.forward(x, p.inputIds, w.shared(), d);
        float[] hidden = p.masks.hidden();
        GatedResidual.scaleChannels(x, hidden, src, d);
        for (int l = 0; l < w.encoder().size(); l++) {
            T5Weights.EncoderLayer layer = w.encoder().get(l);
            EncoderDecoderMasks.Layer m = p.masks.encoder().get(l);
            T5Pass.Attention self = p.encoderSelf.get(l);
            RelativePositionBias.forward(self.bias, w.encoderBias(), p.encoderBuckets, c.encoder().get(l).columns(), c.biasHeads(), p.srcLen, p.srcLen);
            x = selfAttention(c, layer.self(), self, x, Mask.NONE, p.sourceVisible, p.batch, p.srcLen, m.heads(), m.gate(), hidden);
            x = feedForward(c, layer.ffn(), p.encoderFfn.get(l), x, src, m.ffn(), m.gate(), hidden);
        }
        p.encoderLast = x;
        RmsNorm.forwardMasked(p.encoderOut, p.encoderRstd, x, w.encoderNorm(), hidden, src, d, c.eps());
    }

    /**
     * The encoder alone, for decoding token by token ({@link T5Cache}).
     *
     * @param inputIds [srcLen] one sequence
     * @return [srcLen, dim] the encoder output (after encoder.final_layer_norm)
     */
    static float[] encode(T5Model model, int[] inputIds) {
        boolean[] visible = new boolean[inputIds.length];
        Arrays.fill(visible, true);
        T5Pass p = new T5Pass(model.config(), 1, inputIds.length, 0, inputIds, visible, new int[0]);
        p.masks = EncoderDecoderMasks.ones(model.config());
        encoder(model.config(), model.weights(), p);
        return p.encoderOut;
    }

    /**
     * One decoder step with cached keys and values, as Hugging Face's generation with {@code use_cache}:
     * the token at position {@code cache.length()} attends to the cached self-attention keys of the
     * positions before it and its own (the causal bias of query position t: buckets of {@code j − t}), and
     * to the encoder through the cross-attention keys and values computed once in {@link T5Cache#of}.
     *
     * @param token the decoder input at this position (decoder_start_token_id first)
     * @return [vocabSize] the logits of the next token
     */
    public static float[] forwardCached(T5Model model, T5Cache cache, int token) {
        T5Config c = model.config();
        T5Weights w = model.weights();
        int d = c.dim();
        int t = cache.nextPosition();
        int kLen = t + 1;
        float[] x = new float[d];
        Embedding.forward(x, new int[]{token}, w.shared(), d);
        int[] buckets = new int[kLen];
        for (int j = 0; j < kLen; j++) buckets[j] = RelativePositionBias.bucket(j - t, RelativePositionBias.Direction.CAUSAL, c.numBuckets(), c.maxDistance());
        EncoderDecoderMasks ones = EncoderDecoderMasks.ones(c);
        for (int l = 0; l < w.decoder().size(); l++) {
            T5Weights.DecoderLayer layer = w.decoder().get(l);
            int inner = layer.self().heads() * c.headDim();
            float[] bias = new float[layer.self().heads() * kLen];
            RelativePositionBias.forward(bias, w.decoderBias(), buckets, c.decoder().get(l).columns(), c.biasHeads(), 1, kLen);
            float[] h = norm(c, x, layer.self().norm());
            KeyValues step = KeyValues.zeros(1, inner);
            keyValues(c, layer.self(), h, 1, step);
            cache.store(l, step);
            x = attendCached(c, layer.self(), x, h, cache.self(l), bias, everyKey(kLen));
            x = attendCached(c, layer.cross(), x, norm(c, x, layer.cross().norm()), cache.cross(l),
                    new float[layer.cross().heads() * cache.srcLen()], everyKey(cache.srcLen()));
            x = feedForward(c, layer.ffn(), new T5Pass.FeedForward(1, d, layer.ffn().ffnDim(), c.feedForward()), x, 1, ones.decoder().get(l).ffn(), 1f, ones.hidden());
        }
        cache.advance();
        float[] out = norm(c, x, w.decoderNorm());
        float scale = c.headScale();
        for (int i = 0; i < d; i++) out[i] *= scale;
        float[] logits = new float[c.vocabSize()];
        MatMul.forward(logits, out, w.lmHead(), 1, d, c.vocabSize());
        return logits;
    }

    /** [kLen], all true: no padding among these keys. */
    private static boolean[] everyKey(int kLen) {
        boolean[] visible = new boolean[kLen];
        Arrays.fill(visible, true);
        return visible;
    }

    /** T5LayerNorm of one row: [dim]. */
    private static float[] norm(T5Config c, float[] x, float[] weight) {
        float[] out = new float[c.dim()];
        RmsNorm.forward(out, new float[1], x, weight, 1, c.dim(), c.eps());
        return out;
    }

    /** {@code x + o(attention(q(h), keys, values) + bias)} for one query row; keys and values [≥ kLen, heads·headDim]. */
    private static float[] attendCached(T5Config c, T5Weights.Attention w, float[] x, float[] h, KeyValues kv,
                                        float[] bias, boolean[] keyVisible) {
        int kLen = keyVisible.length;
        int d = c.dim();
        int inner = w.heads() * c.headDim();
        float[] q = new float[inner];
        MatMul.forward(q, h, w.query(), 1, d, inner);
        float[] ctx = new float[inner];
        BiasedAttention.forward(ctx, new float[w.heads() * kLen], q, kv.keys(), kv.values(), bias, Mask.NONE, keyVisible, 1, 1, kLen, w.heads(), c.headDim());
        float[] out = new float[d];
        MatMul.forward(out, ctx, w.output(), 1, inner, d);
        for (int i = 0; i < d; i++) out[i] += x[i];
        return out;
    }

    /**
     * Mean cross-entropy over the labels that are not {@link #IGNORE_LABEL} (0 when none is scored), as
     * {@code CrossEntropyLoss(ignore_index=-100)}.
     *
     * @param labels  [batch·tgtLen]
     * @param dLogits [batch·tgtLen, vocabSize] receives d loss / d logits (overwritten), or an empty array for the loss only
     */
    public static double loss(T5Pass p, int[] labels, float[] dLogits) {
        return Labels.loss(p, labels, dLogits);
    }

    /**
     * Backward of {@link #forward}: {@code grads} (same shapes as the model, see {@link T5Weights#zeros})
     * accumulates the gradient of every weight.
     *
     * @param dLogits [batch·tgtLen, vocabSize]
     */
    public static void backward(T5Model model, T5Pass p, float[] dLogits, T5Weights grads) {
        backward(model, p, dLogits, grads, EncoderDecoderMasks.filled(model.config(), 0f));
    }

    /**
     * Backward of the masked {@link #forward}; {@code dMasks} (shaped as the pass's masks) accumulates d loss / d gate at
     * every gate site (the norms' divisor, a count of non-zero gates, has no gradient).
     */
    public static void backward(T5Model model, T5Pass p, float[] dLogits, T5Weights grads, EncoderDecoderMasks dMasks) {
        T5Config c = model.config();
        float[] hidden = p.masks.hidden();
        int kept = p.masks.keptChannels();
        T5Weights w = model.weights();
        int d = c.dim();
        int src = p.batch * p.srcLen;
        int tgt = p.batch * p.tgtLen;

        // head
        float[] dHeadIn = new float[tgt * d];
        MatMul.backwardInput(dHeadIn, dLogits, w.lmHead(), tgt, d, c.vocabSize());
        MatMul.backwardWeight(grads.lmHead(), dLogits, p.headIn, tgt, d, c.vocabSize());
        float scale = c.headScale();
        for (int i = 0; i < dHeadIn.length; i++) dHeadIn[i] *= scale;

        // decoder, last layer first
        float[] dX = new float[tgt * d];
        RmsNorm.backward(dX, grads.decoderNorm(), dHeadIn, p.decoderLast, w.decoderNorm(), p.decoderRstd, tgt, d, kept);
        float[] dEncoderOut = new float[src * d];
        for (int l = w.decoder().size() - 1; l >= 0; l--) {
            T5Weights.DecoderLayer layer = w.decoder().get(l);
            T5Weights.DecoderLayer dLayer = grads.decoder().get(l);
            EncoderDecoderMasks.Layer m = p.masks.decoder().get(l), dm = dMasks.decoder().get(l);
            T5Pass.Attention self = p.decoderSelf.get(l);
            feedForwardBackward(c, layer.ffn(), dLayer.ffn(), p.decoderFfn.get(l), dX, tgt, m, dm, hidden, dMasks.hidden(), kept);
            crossAttentionBackward(c, layer.cross(), dLayer.cross(), p.decoderCross.get(l), dX, p.encoderOut, dEncoderOut, p.batch, p.tgtLen, p.srcLen,
                    m, dm, hidden, dMasks.hidden(), kept);
            float[] dBias = selfAttentionBackward(c, layer.self(), dLayer.self(), self, dX, p.batch, p.tgtLen, m, dm, hidden, dMasks.hidden(), kept);
            RelativePositionBias.backward(grads.decoderBias(), dBias, p.decoderBuckets, c.decoder().get(l).columns(), c.biasHeads(), p.tgtLen, p.tgtLen);
        }
        GatedResidual.scaleChannelsBackward(dX, p.decoderIds, w.shared(), hidden, dMasks.hidden(), d);
        Embedding.backward(grads.shared(), dX, p.decoderIds, d);

        // encoder, last layer first
        dX = new float[src * d];
        RmsNorm.backward(dX, grads.encoderNorm(), dEncoderOut, p.encoderLast, w.encoderNorm(), p.encoderRstd, src, d, kept);
        for (int l = w.encoder().size() - 1; l >= 0; l--) {
            T5Weights.EncoderLayer layer = w.encoder().get(l);
            T5Weights.EncoderLayer dLayer = grads.encoder().get(l);
            EncoderDecoderMasks.Layer m = p.masks.encoder().get(l), dm = dMasks.encoder().get(l);
            feedForwardBackward(c, layer.ffn(), dLayer.ffn(), p.encoderFfn.get(l), dX, src, m, dm, hidden, dMasks.hidden(), kept);
            float[] dBias = selfAttentionBackward(c, layer.self(), dLayer.self(), p.encoderSelf.get(l), dX, p.batch, p.srcLen, m, dm, hidden, dMasks.hidden(), kept);
            RelativePositionBias.backward(grads.encoderBias(), dBias, p.encoderBuckets, c.encoder().get(l).columns(), c.biasHeads(), p.srcLen, p.srcLen);
        }
        GatedResidual.scaleChannelsBackward(dX, p.inputIds, w.shared(), hidden, dMasks.hidden(), d);
        Embedding.backward(grads.shared(), dX, p.inputIds, d);
    }

    // ---------------------------------------------------------------- sub-layers

    /** {@code x + g_layer·g_hidden ⊙ o(g_head ⊙ attention(norm x, norm x) + a.bias)}; x [rows = batch·len, dim]. */
    private static float[] selfAttention(T5Config c, T5Weights.Attention w, T5Pass.Attention a, float[] x, Mask mask,
                                         boolean[] keyVisible, int batch, int len, float[] heads, float layerGate, float[] hidden) {
        a.in = x;
        RmsNorm.forwardMasked(a.normed, a.rstd, x, w.norm(), hidden, batch * len, c.dim(), c.eps());
        return attend(c, w, a, a.normed, mask, keyVisible, batch, len, len, heads, layerGate, hidden);
    }

    /** {@code x + g_layer·g_hidden ⊙ o(g_cross ⊙ attention(norm x, enc))} (a.bias stays zero); x [batch·qLen, dim], enc [batch·kLen, dim]. */
    private static float[] crossAttention(T5Config c, T5Weights.Attention w, T5Pass.Attention a, float[] x, float[] enc,
                                          boolean[] encVisible, int batch, int qLen, int kLen, float[] heads, float layerGate, float[] hidden) {
        a.in = x;
        RmsNorm.forwardMasked(a.normed, a.rstd, x, w.norm(), hidden, batch * qLen, c.dim(), c.eps());
        return attend(c, w, a, enc, Mask.NONE, encVisible, batch, qLen, kLen, heads, layerGate, hidden);
    }

    /** Queries from {@code a.normed} [batch·qLen, dim], keys and values from {@code memory} [batch·kLen, dim]; returns the gated residual sum. */
    private static float[] attend(T5Config c, T5Weights.Attention w, T5Pass.Attention a, float[] memory, Mask mask,
                                  boolean[] keyVisible, int batch, int qLen, int kLen, float[] heads, float layerGate, float[] hidden) {
        int d = c.dim();
        int inner = w.heads() * c.headDim();
        int rows = batch * qLen;
        MatMul.forward(a.q, a.normed, w.query(), rows, d, inner);
        keyValues(c, w, memory, batch * kLen, new KeyValues(a.k, a.v));
        BiasedAttention.forward(a.ctx, a.probs, a.q, a.k, a.v, a.bias, mask, keyVisible, batch, qLen, kLen, w.heads(), c.headDim());
        System.arraycopy(a.ctx, 0, a.gated, 0, a.ctx.length);
        GateScale.forward(a.gated, rows, w.heads(), c.headDim(), heads);
        MatMul.forward(a.out, a.gated, w.output(), rows, inner, d);
        return GatedResidual.add(a.in, a.out, layerGate, hidden, rows, d);
    }

    /** {@code x + g_layer·g_hidden ⊙ wo(g_ffn ⊙ act(norm x))}; x [rows, dim]. */
    private static float[] feedForward(T5Config c, T5Weights.FeedForward w, T5Pass.FeedForward a, float[] x, int rows,
                                       float[] neurons, float layerGate, float[] hidden) {
        int d = c.dim();
        int f = w.ffnDim();
        a.in = x;
        RmsNorm.forwardMasked(a.normed, a.rstd, x, w.norm(), hidden, rows, d, c.eps());
        MatMul.forward(a.up, a.normed, w.up(), rows, d, f);
        switch (c.feedForward()) {
            case RELU -> Relu.forward(a.act, a.up, rows * f);
            case GATED_GELU -> {
                MatMul.forward(a.gate, a.normed, w.gate(), rows, d, f);
                GeluNew.forwardGated(a.act, a.gate, a.up, rows * f);
            }
        }
        System.arraycopy(a.act, 0, a.gated, 0, a.act.length);
        GateScale.forward(a.gated, rows, f, 1, neurons);
        MatMul.forward(a.out, a.gated, w.down(), rows, f, d);
        return GatedResidual.add(x, a.out, layerGate, hidden, rows, d);
    }

    /**
     * The keys and values {@code w} projects from {@code memory} [rows, dim] into {@code out} [rows, heads·headDim]:
     * self-attention's from its own normed input, cross-attention's from the encoder output.
     */
    static void keyValues(T5Config c, T5Weights.Attention w, float[] memory, int rows, KeyValues out) {
        int inner = w.heads() * c.headDim();
        MatMul.forward(out.keys(), memory, w.key(), rows, c.dim(), inner);
        MatMul.forward(out.values(), memory, w.value(), rows, c.dim(), inner);
    }

    /**
     * Backward of {@link #selfAttention}: dX [rows, dim] holds d loss / d output and receives d loss / d x (in place);
     * {@code dm} (the layer's gate gradients) and {@code dHidden} accumulate.
     *
     * @return dBias [heads, len, len]
     */
    private static float[] selfAttentionBackward(T5Config c, T5Weights.Attention w, T5Weights.Attention g, T5Pass.Attention a, float[] dX,
                                                 int batch, int len, EncoderDecoderMasks.Layer m, EncoderDecoderMasks.Layer dm,
                                                 float[] hidden, float[] dHidden, int kept) {
        float[] dNormed = new float[a.normed.length];
        float[] dBias = new float[a.bias.length];
        float[] dOut = GatedResidual.backward(dX, a.out, m.gate(), hidden, dm.layer(), dHidden, batch * len, c.dim());
        attendBackward(c, w, g, a, a.normed, dOut, dNormed, dNormed, dBias, batch, len, len, m.heads(), dm.heads());
        RmsNorm.backward(dX, g.norm(), dNormed, a.in, w.norm(), a.rstd, batch * len, c.dim(), kept);
        return dBias;
    }

    /** Backward of {@link #crossAttention}: as {@link #selfAttentionBackward}, and dEnc [batch·kLen, dim] accumulates. */
    private static void crossAttentionBackward(T5Config c, T5Weights.Attention w, T5Weights.Attention g, T5Pass.Attention a, float[] dX,
                                               float[] enc, float[] dEnc, int batch, int qLen, int kLen, EncoderDecoderMasks.Layer m,
                                               EncoderDecoderMasks.Layer dm, float[] hidden, float[] dHidden, int kept) {
        float[] dNormed = new float[a.normed.length];
        float[] dOut = GatedResidual.backward(dX, a.out, m.gate(), hidden, dm.layer(), dHidden, batch * qLen, c.dim());
        // the zero bias is not a weight: its gradient is dropped
        attendBackward(c, w, g, a, enc, dOut, dNormed, dEnc, new float[a.bias.length], batch, qLen, kLen, m.crossHeads(), dm.crossHeads());
        RmsNorm.backward(dX, g.norm(), dNormed, a.in, w.norm(), a.rstd, batch * qLen, c.dim(), kept);
    }

    /** Backward of {@link #attend} from dOut [rows, dim] = d loss / d o(...): dNormed and dMemory (maybe one array) and dHeads accumulate. */
    private static void attendBackward(T5Config c, T5Weights.Attention w, T5Weights.Attention g, T5Pass.Attention a, float[] memory,
                                       float[] dOut, float[] dNormed, float[] dMemory, float[] dBias, int batch, int qLen, int kLen,
                                       float[] heads, float[] dHeads) {
        int d = c.dim();
        int inner = w.heads() * c.headDim();
        int rows = batch * qLen;
        int kRows = batch * kLen;
        float[] dCtx = new float[rows * inner];
        MatMul.backwardInput(dCtx, dOut, w.output(), rows, inner, d);
        MatMul.backwardWeight(g.output(), dOut, a.gated, rows, inner, d);
        GateScale.backward(dCtx, a.ctx, rows, w.heads(), c.headDim(), heads, dHeads);
        float[] dQ = new float[rows * inner];
        float[] dK = new float[kRows * inner];
        float[] dV = new float[kRows * inner];
        BiasedAttention.backward(dQ, dK, dV, dBias, dCtx, a.probs, a.q, a.k, a.v, batch, qLen, kLen, w.heads(), c.headDim());
        MatMul.backwardInput(dNormed, dQ, w.query(), rows, d, inner);
        MatMul.backwardWeight(g.query(), dQ, a.normed, rows, d, inner);
        MatMul.backwardInput(dMemory, dK, w.key(), kRows, d, inner);
        MatMul.backwardWeight(g.key(), dK, memory, kRows, d, inner);
        MatMul.backwardInput(dMemory, dV, w.value(), kRows, d, inner);
        MatMul.backwardWeight(g.value(), dV, memory, kRows, d, inner);
    }

    /** Backward of {@link #feedForward}: dX [rows, dim] holds d loss / d output and receives d loss / d x (in place); the gate gradients accumulate. */
    private static void feedForwardBackward(T5Config c, T5Weights.FeedForward w, T5Weights.FeedForward g, T5Pass.FeedForward a,
                                            float[] dX, int rows, EncoderDecoderMasks.Layer m, EncoderDecoderMasks.Layer dm,
                                            float[] hidden, float[] dHidden, int kept) {
        int d = c.dim();
        int f = w.ffnDim();
        float[] dOut = GatedResidual.backward(dX, a.out, m.gate(), hidden, dm.layer(), dHidden, rows, d);
        float[] dAct = new float[rows * f];
        MatMul.backwardInput(dAct, dOut, w.down(), rows, f, d);
        MatMul.backwardWeight(g.down(), dOut, a.gated, rows, f, d);
        GateScale.backward(dAct, a.act, rows, f, 1, m.ffn(), dm.ffn());
        float[] dUp = new float[rows * f];
        float[] dNormed = new float[rows * d];
        switch (c.feedForward()) {
            case RELU -> Relu.backward(dUp, dAct, a.up, rows * f);
            case GATED_GELU -> {
                float[] dGate = new float[rows * f];
                GeluNew.backwardGated(dGate, dUp, dAct, a.gate, a.up, rows * f);
                MatMul.backwardInput(dNormed, dGate, w.gate(), rows, d, f);
                MatMul.backwardWeight(g.gate(), dGate, a.normed, rows, d, f);
            }
        }
        MatMul.backwardInput(dNormed, dUp, w.up(), rows, d, f);
        MatMul.backwardWeight(g.up(), dUp, a.normed, rows, d, f);
        RmsNorm.backward(dX, g.norm(), dNormed, a.in, w.norm(), a.rstd, rows, d, kept);
    }
}
