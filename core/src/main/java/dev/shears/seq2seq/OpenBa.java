package dev.shears.seq2seq;

import dev.shears.kernel.BiasedAttention;
import dev.shears.kernel.BiasedAttention.Mask;
import dev.shears.kernel.Embedding;
import dev.shears.kernel.GateScale;
import dev.shears.kernel.LayerNorm;
import dev.shears.kernel.MatMul;
import dev.shears.kernel.Rope;
import dev.shears.kernel.RopeTable;
import dev.shears.kernel.SwiGlu;

import java.util.Arrays;

/**
 * OpenBA's forward and backward, as OpenNLG/OpenBA's {@code modeling_openba.py}
 * ({@code OpenBAForConditionalGeneration}) with teacher forcing (Li et al. 2023). {@link #forward} reads as the
 * diagram; {@link #backward} is the same text in reverse.
 *
 * <pre>
 *   input_ids ─ shared ─┬─ [x + SelfAttn(LN x, rotary)] ─ [x + SwiGLU(LN x)] ─ × encoder layers ─ final LN ─► enc
 *   labels ─ shift right ─ shared ─ [x + SelfAttn(LN x, rotary, causal)] ─ [x + CrossAttn(LN x, enc)] ─ [x + SwiGLU(LN x)]
 *                                   ─ × decoder layers ─ final LN ─ × dim^-½ if tied ─ LM head (+ bias) ─► logits
 * </pre>
 *
 * Every LN is a {@link LayerNorm} with a bias (eps {@link OpenBaConfig#EPS}). Self-attention projects with the
 * fused {@code qkv} (per head [q | k | v]), rotates all headDim channels of q and k in the rotate-half layout
 * ({@link Rope}; positions from 0 in each stack; frequencies {@code 10000^(−2i/headDim)}, angles in fp32 as the
 * published {@code create_sinusoidal_positions}); cross-attention projects q from the decoder and the fused
 * {@code kv} (per head [k | v]) from the encoder, without rotation. Scores are {@code q·k/√headDim}; the
 * SwiGLU is {@code fc_out(silu(gate) · up)} with {@code [gate | up] = fc_in(x)}.
 *
 * <p>Deliberate differences from the published code: it divides the scores by √headDim, Shears multiplies q
 * by 1/√headDim before the product (the same in exact arithmetic, fp32 rounding apart); it fills masked
 * scores with −10000, Shears gives them probability 0 ({@link BiasedAttention}'s causal mask): identical
 * whenever the visible scores are above −9000, as exp(−745) is already 0 in double (the same holds for the
 * encoder padding the published {@code attention_mask} fills with −10000); dropout is not applied (eval mode).
 */
public final class OpenBa {
    /** Hugging Face's label that is not scored (and becomes pad_token_id in the decoder input). */
    public static final int IGNORE_LABEL = Labels.IGNORE;
    /** create_sinusoidal_positions' base: {@code inv_freq = 1 / 10000^(2i/kv_channels)}. */
    static final double ROPE_BASE = 10000;

    private OpenBa() {
    }

    /**
     * One calibration window under teacher forcing, as {@link T5#forwardWindow}: the encoder reads its first half, the
     * decoder is forced on the rest ({@link T5#windowLabels}).
     *
     * @param window at least 2 token ids, each half within its rotary table
     */
    public static OpenBaPass forwardWindow(OpenBaModel model, int[] window) {
        if (window.length < 2) throw new IllegalArgumentException("a calibration window needs at least 2 tokens, got " + window.length);
        int srcLen = window.length / 2;
        return forward(model, Arrays.copyOf(window, srcLen), T5.windowLabels(window), 1, srcLen, window.length - srcLen);
    }

    /**
     * Logits of every decoder position under teacher forcing.
     *
     * @param inputIds [batch, srcLen] encoder token ids
     * @param labels   [batch, tgtLen] target ids, or {@link #IGNORE_LABEL}
     * @return the pass: {@link OpenBaPass#logits()} is [batch·tgtLen, vocabSize]
     */
    public static OpenBaPass forward(OpenBaModel model, int[] inputIds, int[] labels, int batch, int srcLen, int tgtLen) {
        int[] allReal = new int[inputIds.length];
        java.util.Arrays.fill(allReal, 1);
        return forward(model, inputIds, allReal, labels, batch, srcLen, tgtLen);
    }

    /**
     * {@link #forward(OpenBaModel, int[], int[], int, int, int)} with encoder padding: the positions where
     * {@code attentionMask} is 0 are read by neither the encoder's self-attention nor the decoder's cross-attention,
     * as the published forward with {@code attention_mask} (its −10000 fill, see the class comment).
     *
     * @param attentionMask [batch, srcLen] 1 for a real token, 0 for padding; each sequence needs one real token
     */
    public static OpenBaPass forward(OpenBaModel model, int[] inputIds, int[] attentionMask, int[] labels, int batch, int srcLen, int tgtLen) {
        return forward(model, EncoderDecoderMasks.ones(model.config()), inputIds, attentionMask, labels, batch, srcLen, tgtLen);
    }

    /**
     * {@link #forward(OpenBaModel, int[], int[], int[], int, int, int)} under learned L0 gates ({@link EncoderDecoderMasks}):
     * the hidden gates on the embedding and on every sub-layer's output, each layer's gate on its sub-layers' outputs,
     * head gates on each head's context before {@code o}, neuron gates on the SwiGLU activation before {@code fc_out};
     * every LayerNorm normalises the channels whose hidden gate is non-zero and writes 0 to the others
     * ({@link LayerNorm#forwardMasked}).
     *
     * <pre>
     *   x = shared(ids) ⊙ g_hidden
     *   per layer l:  x = x + g_l · g_hidden ⊙ (o( g_head ⊙ attention(LN x) ) + o.bias)     (self; in the decoder also cross with g_cross)
     *                 x = x + g_l · g_hidden ⊙ fc_out( g_ffn ⊙ silu(gate) · up )
     * </pre>
     */
    public static OpenBaPass forward(OpenBaModel model, EncoderDecoderMasks masks, int[] inputIds, int[] attentionMask, int[] labels, int batch, int srcLen, int tgtLen) {
        OpenBaConfig c = model.config();
        OpenBaWeights w = model.weights();
        Labels.checkShape(inputIds, labels, batch, srcLen, tgtLen);
        checkLengths(c, srcLen, tgtLen);
        Labels.checkIds(labels, c.vocabSize());
        int d = c.dim();
        int tgt = batch * tgtLen;
        OpenBaPass p = new OpenBaPass(c, batch, srcLen, tgtLen, inputIds, EncoderDecoderPass.visible(attentionMask, batch, srcLen), Labels.shiftRight(labels, batch, tgtLen, c.decoderStartToken(), c.padToken()));
        p.masks = masks;
        float[] hidden = masks.hidden();

        // encoder
        encoder(c, w, p);

        // decoder
        float[] x = new float[tgt * d];
        Embedding.forward(x, p.decoderIds, w.shared(), d);
        GatedResidual.scaleChannels(x, hidden, tgt, d);
        for (int l = 0; l < w.decoder().size(); l++) {
            OpenBaWeights.DecoderLayer layer = w.decoder().get(l);
            EncoderDecoderMasks.Layer m = masks.decoder().get(l);
            x = selfAttention(c, layer.self(), p.decoderSelf.get(l), p, x, Mask.CAUSAL, allVisible(batch, tgtLen), tgtLen, m.heads(), m.gate());
            x = crossAttention(c, layer.cross(), p.decoderCross.get(l), p, x, m.crossHeads(), m.gate());
            x = feedForward(c, layer.ffn(), p.decoderFfn.get(l), x, tgt, m.ffn(), m.gate(), hidden);
        }
        p.decoderLast = x;
        LayerNorm.forwardMasked(p.decoderOut, p.decoderMean, p.decoderRstd, x, w.decoderNorm().weight(), w.decoderNorm().bias(), hidden, tgt, d, OpenBaConfig.EPS);

        // head
        float scale = c.headScale();
        for (int i = 0; i < p.headIn.length; i++) p.headIn[i] = p.decoderOut[i] * scale;
        MatMul.forward(p.logits, p.headIn, w.lmHead(), w.lmHeadBias(), tgt, d, c.vocabSize());
        return p;
    }

    /** The encoder: fills {@code p.encoderOut} [batch·srcLen, dim] and what the backward pass needs on the way. */
    static void encoder(OpenBaConfig c, OpenBaWeights w, OpenBaPass p) {
        int d = c.dim();
        int src = p.batch * p.srcLen;
        float[] x = new float[src * d];
        Embedding.forward(x, p.inputIds, w.shared(), d);
        float[] hidden = p.masks.hidden();
        GatedResidual.scaleChannels(x, hidden, src, d);
        for (int l = 0; l < w.encoder().size(); l++) {
            OpenBaWeights.EncoderLayer layer = w.encoder().get(l);
            EncoderDecoderMasks.Layer m = p.masks.encoder().get(l);
            x = selfAttention(c, layer.self(), p.encoderSelf.get(l), p, x, Mask.NONE, p.encoderVisible, p.srcLen, m.heads(), m.gate());
            x = feedForward(c, layer.ffn(), p.encoderFfn.get(l), x, src, m.ffn(), m.gate(), hidden);
        }
        p.encoderLast = x;
        LayerNorm.forwardMasked(p.encoderOut, p.encoderMean, p.encoderRstd, x, w.encoderNorm().weight(), w.encoderNorm().bias(), hidden, src, d, OpenBaConfig.EPS);
    }

    /**
     * One decoder step with cached keys and values ({@link OpenBaDecoding#step}: the published generation with {@code use_cache}).
     *
     * @param token the decoder input at this position (decoder_start_token_id first)
     * @return [vocabSize] the logits of the next token
     */
    public static float[] forwardCached(OpenBaModel model, OpenBaCache cache, int token) {
        return OpenBaDecoding.step(model, cache, token);
    }

    /**
     * Mean cross-entropy over the labels that are not {@link #IGNORE_LABEL} (0 when none is scored), as
     * {@code nn.CrossEntropyLoss(ignore_index=-100)}.
     *
     * @param labels  [batch·tgtLen]
     * @param dLogits [batch·tgtLen, vocabSize] receives d loss / d logits (overwritten), or an empty array for the loss only
     */
    public static double loss(OpenBaPass p, int[] labels, float[] dLogits) {
        return Labels.loss(p, labels, dLogits);
    }

    /**
     * Backward of {@link #forward}: {@code grads} (same shapes as the model, see {@link OpenBaWeights#zeros})
     * accumulates the gradient of every weight, the switched-off biases included (the table does not list them).
     *
     * @param dLogits [batch·tgtLen, vocabSize]
     */
    public static void backward(OpenBaModel model, OpenBaPass p, float[] dLogits, OpenBaWeights grads) {
        backward(model, p, dLogits, grads, EncoderDecoderMasks.filled(model.config(), 0f));
    }

    /** Backward of the masked {@link #forward}; {@code dMasks} accumulates d loss / d gate at every gate site (the norms' kept-channel count has no gradient). */
    public static void backward(OpenBaModel model, OpenBaPass p, float[] dLogits, OpenBaWeights grads, EncoderDecoderMasks dMasks) {
        OpenBaConfig c = model.config();
        float[] hidden = p.masks.hidden();
        OpenBaWeights w = model.weights();
        int d = c.dim();
        int src = p.batch * p.srcLen;
        int tgt = p.batch * p.tgtLen;

        // head
        float[] dHeadIn = new float[tgt * d];
        MatMul.backwardInput(dHeadIn, dLogits, w.lmHead(), tgt, d, c.vocabSize());
        MatMul.backwardWeight(grads.lmHead(), dLogits, p.headIn, tgt, d, c.vocabSize());
        addRowSums(grads.lmHeadBias(), dLogits, tgt, c.vocabSize());
        float scale = c.headScale();
        for (int i = 0; i < dHeadIn.length; i++) dHeadIn[i] *= scale;

        // decoder, last layer first
        float[] dX = new float[tgt * d];
        LayerNorm.backwardMasked(dX, grads.decoderNorm().weight(), grads.decoderNorm().bias(), dHeadIn, p.decoderLast, w.decoderNorm().weight(), hidden,
                p.decoderMean, p.decoderRstd, tgt, d);
        float[] dEncoderOut = new float[src * d];
        for (int l = w.decoder().size() - 1; l >= 0; l--) {
            OpenBaWeights.DecoderLayer layer = w.decoder().get(l);
            OpenBaWeights.DecoderLayer dLayer = grads.decoder().get(l);
            EncoderDecoderMasks.Layer m = p.masks.decoder().get(l), dm = dMasks.decoder().get(l);
            feedForwardBackward(c, layer.ffn(), dLayer.ffn(), p.decoderFfn.get(l), dX, tgt, m, dm, hidden, dMasks.hidden());
            crossAttentionBackward(c, layer.cross(), dLayer.cross(), p.decoderCross.get(l), p, dX, dEncoderOut, m, dm, dMasks.hidden());
            selfAttentionBackward(c, layer.self(), dLayer.self(), p.decoderSelf.get(l), p, dX, p.tgtLen, m, dm, dMasks.hidden());
        }
        GatedResidual.scaleChannelsBackward(dX, p.decoderIds, w.shared(), hidden, dMasks.hidden(), d);
        Embedding.backward(grads.shared(), dX, p.decoderIds, d);

        // encoder, last layer first
        dX = new float[src * d];
        LayerNorm.backwardMasked(dX, grads.encoderNorm().weight(), grads.encoderNorm().bias(), dEncoderOut, p.encoderLast, w.encoderNorm().weight(), hidden,
                p.encoderMean, p.encoderRstd, src, d);
        for (int l = w.encoder().size() - 1; l >= 0; l--) {
            OpenBaWeights.EncoderLayer layer = w.encoder().get(l);
            OpenBaWeights.EncoderLayer dLayer = grads.encoder().get(l);
            EncoderDecoderMasks.Layer m = p.masks.encoder().get(l), dm = dMasks.encoder().get(l);
            feedForwardBackward(c, layer.ffn(), dLayer.ffn(), p.encoderFfn.get(l), dX, src, m, dm, hidden, dMasks.hidden());
            selfAttentionBackward(c, layer.self(), dLayer.self(), p.encoderSelf.get(l), p, dX, p.srcLen, m, dm, dMasks.hidden());
        }
        GatedResidual.scaleChannelsBackward(dX, p.inputIds, w.shared(), hidden, dMasks.hidden(), d);
        Embedding.backward(grads.shared(), dX, p.inputIds, d);
    }

    /** The rotary table of {@code create_sinusoidal_positions(num_pos, kv_channels)}: frequencies {@code 10000^(−2i/headDim)}. */
    static RopeTable ropeTable(OpenBaConfig c) {
        int half = c.headDim() / 2;
        double[] inverseFrequencies = new double[half];
        for (int i = 0; i < half; i++) inverseFrequencies[i] = 1 / Math.pow(ROPE_BASE, 2.0 * i / c.headDim());
        return new RopeTable(inverseFrequencies);
    }

    /** The most heads of any attention of the model. */
    static int maxHeads(OpenBaConfig c) {
        int most = 0;
        for (OpenBaConfig.Block b : c.encoder()) most = Math.max(most, b.numHeads());
        for (OpenBaConfig.Block b : c.decoder()) most = Math.max(most, Math.max(b.numHeads(), b.crossHeads()));
        return most;
    }

    /** What multiplies q before its product with k: 1/√headDim, the published {@code / self.scale_attn}. */
    static float queryScale(OpenBaConfig c) {
        return (float) (1 / Math.sqrt(c.headDim()));
    }

    /** Refuses lengths beyond the rotary tables (positions from 0 in each stack). */
    private static void checkLengths(OpenBaConfig c, int srcLen, int tgtLen) {
        if (srcLen > c.maxSrcLen() || tgtLen > c.maxTgtLen()) {
            throw new IllegalArgumentException("srcLen " + srcLen + " and tgtLen " + tgtLen + " must be within max_seq_length " + c.maxSrcLen()
                    + " and decoder_max_seq_length " + c.maxTgtLen() + " (the rows of the rotary tables)");
        }
    }

    /** {@code dBias[j] += Σ_rows dOut[r, j]}: the gradient of a Linear's bias. */
    static void addRowSums(float[] dBias, float[] dOut, int rows, int outDim) {
        for (int j = 0; j < outDim; j++) {
            double sum = 0;
            for (int r = 0; r < rows; r++) sum += dOut[r * outDim + j];
            dBias[j] += (float) sum;
        }
    }

    // ---------------------------------------------------------------- sub-layers

    /** {@code x + o(attention(rope(q), rope(k), v))} with q, k, v from {@code qkv(LN x)}; x [rows = batch·len, dim]. */
    private static float[] selfAttention(OpenBaConfig c, OpenBaWeights.SelfAttention w, OpenBaPass.Attention a, OpenBaPass p, float[] x,
                                         Mask mask, boolean[] keyVisible, int len, float[] heads, float layerGate) {
        int d = c.dim();
        int hd = c.headDim();
        int inner = w.heads() * hd;
        int rows = p.batch * len;
        a.in = x;
        LayerNorm.forwardMasked(a.normed, a.mean, a.rstd, x, w.norm().weight(), w.norm().bias(), p.masks.hidden(), rows, d, OpenBaConfig.EPS);
        float[] qkv = new float[rows * 3 * inner];
        MatMul.forward(qkv, a.normed, w.qkv(), w.qkvBias(), rows, d, 3 * inner);
        FusedRows.split(qkv, new float[][]{a.q, a.k, a.v}, rows, w.heads(), hd);
        Rope.forward(a.q, rows, len, 0, w.heads(), hd, p.rope);
        Rope.forward(a.k, rows, len, 0, w.heads(), hd, p.rope);
        scale(a.q, queryScale(c));
        BiasedAttention.forward(a.ctx, a.probs, a.q, a.k, a.v, p.noBias, mask, keyVisible, p.batch, len, len, w.heads(), hd);
        return gatedOutput(c, a, w.output(), w.outputBias(), rows, w.heads(), heads, layerGate, p.masks.hidden());
    }

    /** {@code x + o(attention(q(LN x), k(enc), v(enc)))} with [k | v] from {@code kv(enc)}; x [batch·tgtLen, dim]. */
    private static float[] crossAttention(OpenBaConfig c, OpenBaWeights.CrossAttention w, OpenBaPass.Attention a, OpenBaPass p, float[] x,
                                          float[] heads, float layerGate) {
        int d = c.dim();
        int hd = c.headDim();
        int inner = w.heads() * hd;
        int rows = p.batch * p.tgtLen;
        int kRows = p.batch * p.srcLen;
        a.in = x;
        LayerNorm.forwardMasked(a.normed, a.mean, a.rstd, x, w.norm().weight(), w.norm().bias(), p.masks.hidden(), rows, d, OpenBaConfig.EPS);
        MatMul.forward(a.q, a.normed, w.query(), w.queryBias(), rows, d, inner);
        scale(a.q, queryScale(c));
        crossKeyValues(c, w, p.encoderOut, kRows, new KeyValues(a.k, a.v));
        BiasedAttention.forward(a.ctx, a.probs, a.q, a.k, a.v, p.noBias, Mask.NONE, p.encoderVisible, p.batch, p.tgtLen, p.srcLen, w.heads(), hd);
        return gatedOutput(c, a, w.output(), w.outputBias(), rows, w.heads(), heads, layerGate, p.masks.hidden());
    }

    /** The keys and values of {@code enc} [kRows, dim] into {@code out} [kRows, heads·headDim]: the fused {@code kv(enc)}, per head [k | v], split. */
    static void crossKeyValues(OpenBaConfig c, OpenBaWeights.CrossAttention w, float[] enc, int kRows, KeyValues out) {
        int inner = w.heads() * c.headDim();
        float[] kv = new float[kRows * 2 * inner];
        MatMul.forward(kv, enc, w.keyValue(), w.keyValueBias(), kRows, c.dim(), 2 * inner);
        FusedRows.split(kv, new float[][]{out.keys(), out.values()}, kRows, w.heads(), c.headDim());
    }

    /** {@code x + o(ctx) + o.bias}: ctx [rows, inner], x [rows, dim]. */
    static float[] output(OpenBaConfig c, float[] ctx, float[] weight, float[] bias, float[] x, int rows, int inner) {
        float[] out = new float[rows * c.dim()];
        MatMul.forward(out, ctx, weight, bias, rows, inner, c.dim());
        for (int i = 0; i < out.length; i++) out[i] += x[i];
        return out;
    }

    /**
     * {@code x + g_layer·g_hidden ⊙ (o(g_head ⊙ ctx) + o.bias)}: a.ctx [rows, inner] and a.in [rows, dim] set; keeps a.gated and a.out.
     */
    private static float[] gatedOutput(OpenBaConfig c, OpenBaPass.Attention a, float[] weight, float[] bias, int rows, int numHeads, float[] heads,
                                       float layerGate, float[] hidden) {
        System.arraycopy(a.ctx, 0, a.gated, 0, a.ctx.length);
        GateScale.forward(a.gated, rows, numHeads, c.headDim(), heads);
        MatMul.forward(a.out, a.gated, weight, bias, rows, numHeads * c.headDim(), c.dim());
        return GatedResidual.add(a.in, a.out, layerGate, hidden, rows, c.dim());
    }

    /** {@code x + g_layer·g_hidden ⊙ fc_out(g_ffn ⊙ silu(gate) · up)} with {@code [gate | up] = fc_in(LN x)}; x [rows, dim]. */
    static float[] feedForward(OpenBaConfig c, OpenBaWeights.FeedForward w, OpenBaPass.FeedForward a, float[] x, int rows,
                                       float[] neurons, float layerGate, float[] hidden) {
        int d = c.dim();
        int f = w.ffnDim();
        a.in = x;
        LayerNorm.forwardMasked(a.normed, a.mean, a.rstd, x, w.norm().weight(), w.norm().bias(), hidden, rows, d, OpenBaConfig.EPS);
        float[] fused = new float[rows * 2 * f];
        MatMul.forward(fused, a.normed, w.fcIn(), rows, d, 2 * f);
        FusedRows.split(fused, new float[][]{a.gate, a.up}, rows, 1, f);
        SwiGlu.forward(a.act, a.gate, a.up, rows * f);
        System.arraycopy(a.act, 0, a.gated, 0, a.act.length);
        GateScale.forward(a.gated, rows, f, 1, neurons);
        MatMul.forward(a.out, a.gated, w.fcOut(), rows, f, d);
        return GatedResidual.add(x, a.out, layerGate, hidden, rows, d);
    }

    static void scale(float[] values, float by) {
        for (int i = 0; i < values.length; i++) values[i] *= by;
    }

    /** Backward of {@link #selfAttention}: dX [rows, dim] holds d loss / d output and receives d loss / d x (in place). */
    private static void selfAttentionBackward(OpenBaConfig c, OpenBaWeights.SelfAttention w, OpenBaWeights.SelfAttention g, OpenBaPass.Attention a,
                                              OpenBaPass p, float[] dX, int len, EncoderDecoderMasks.Layer m, EncoderDecoderMasks.Layer dm, float[] dHidden) {
        int d = c.dim();
        int hd = c.headDim();
        int inner = w.heads() * hd;
        int rows = p.batch * len;
        float[] dOut = GatedResidual.backward(dX, a.out, m.gate(), p.masks.hidden(), dm.layer(), dHidden, rows, d);
        float[] dCtx = outputBackward(c, w.output(), g.output(), g.outputBias(), a, dOut, rows, w.heads(), m.heads(), dm.heads());
        float[] dQ = new float[rows * inner];
        float[] dK = new float[rows * inner];
        float[] dV = new float[rows * inner];
        BiasedAttention.backward(dQ, dK, dV, new float[p.noBias.length], dCtx, a.probs, a.q, a.k, a.v, p.batch, len, len, w.heads(), hd);
        scale(dQ, queryScale(c));
        Rope.backward(dQ, rows, len, 0, w.heads(), hd, p.rope);
        Rope.backward(dK, rows, len, 0, w.heads(), hd, p.rope);
        float[] dQkv = new float[rows * 3 * inner];
        FusedRows.merge(dQkv, new float[][]{dQ, dK, dV}, rows, w.heads(), hd);
        float[] dNormed = new float[rows * d];
        MatMul.backwardInput(dNormed, dQkv, w.qkv(), rows, d, 3 * inner);
        MatMul.backwardWeight(g.qkv(), dQkv, a.normed, rows, d, 3 * inner);
        addRowSums(g.qkvBias(), dQkv, rows, 3 * inner);
        LayerNorm.backwardMasked(dX, g.norm().weight(), g.norm().bias(), dNormed, a.in, w.norm().weight(), p.masks.hidden(), a.mean, a.rstd, rows, d);
    }

    /** Backward of {@link #crossAttention}: as {@link #selfAttentionBackward}, and dEnc [batch·srcLen, dim] accumulates. */
    private static void crossAttentionBackward(OpenBaConfig c, OpenBaWeights.CrossAttention w, OpenBaWeights.CrossAttention g, OpenBaPass.Attention a,
                                               OpenBaPass p, float[] dX, float[] dEnc, EncoderDecoderMasks.Layer m, EncoderDecoderMasks.Layer dm, float[] dHidden) {
        int d = c.dim();
        int hd = c.headDim();
        int inner = w.heads() * hd;
        int rows = p.batch * p.tgtLen;
        int kRows = p.batch * p.srcLen;
        float[] dOut = GatedResidual.backward(dX, a.out, m.gate(), p.masks.hidden(), dm.layer(), dHidden, rows, d);
        float[] dCtx = outputBackward(c, w.output(), g.output(), g.outputBias(), a, dOut, rows, w.heads(), m.crossHeads(), dm.crossHeads());
        float[] dQ = new float[rows * inner];
        float[] dK = new float[kRows * inner];
        float[] dV = new float[kRows * inner];
        BiasedAttention.backward(dQ, dK, dV, new float[p.noBias.length], dCtx, a.probs, a.q, a.k, a.v, p.batch, p.tgtLen, p.srcLen, w.heads(), hd);
        scale(dQ, queryScale(c));
        float[] dNormed = new float[rows * d];
        MatMul.backwardInput(dNormed, dQ, w.query(), rows, d, inner);
        MatMul.backwardWeight(g.query(), dQ, a.normed, rows, d, inner);
        addRowSums(g.queryBias(), dQ, rows, inner);
        float[] dKv = new float[kRows * 2 * inner];
        FusedRows.merge(dKv, new float[][]{dK, dV}, kRows, w.heads(), hd);
        MatMul.backwardInput(dEnc, dKv, w.keyValue(), kRows, d, 2 * inner);
        MatMul.backwardWeight(g.keyValue(), dKv, p.encoderOut, kRows, d, 2 * inner);
        addRowSums(g.keyValueBias(), dKv, kRows, 2 * inner);
        LayerNorm.backwardMasked(dX, g.norm().weight(), g.norm().bias(), dNormed, a.in, w.norm().weight(), p.masks.hidden(), a.mean, a.rstd, rows, d);
    }

    /**
     * Backward of {@link #gatedOutput} from dOut [rows, dim] = d loss / d (o(gated) + bias): the output weight and bias accumulate,
     * dHeads the head gates' gradients; returns dCtx [rows, inner].
     */
    private static float[] outputBackward(OpenBaConfig c, float[] weight, float[] dWeight, float[] dBias, OpenBaPass.Attention a, float[] dOut, int rows,
                                          int numHeads, float[] heads, float[] dHeads) {
        int inner = numHeads * c.headDim();
        float[] dCtx = new float[rows * inner];
        MatMul.backwardInput(dCtx, dOut, weight, rows, inner, c.dim());
        MatMul.backwardWeight(dWeight, dOut, a.gated, rows, inner, c.dim());
        addRowSums(dBias, dOut, rows, c.dim());
        GateScale.backward(dCtx, a.ctx, rows, numHeads, c.headDim(), heads, dHeads);
        return dCtx;
    }

    /** Backward of {@link #feedForward}: dX [rows, dim] holds d loss / d output and receives d loss / d x (in place). */
    private static void feedForwardBackward(OpenBaConfig c, OpenBaWeights.FeedForward w, OpenBaWeights.FeedForward g, OpenBaPass.FeedForward a,
                                            float[] dX, int rows, EncoderDecoderMasks.Layer m, EncoderDecoderMasks.Layer dm, float[] hidden, float[] dHidden) {
        int d = c.dim();
        int f = w.ffnDim();
        float[] dOut = GatedResidual.backward(dX, a.out, m.gate(), hidden, dm.layer(), dHidden, rows, d);
        float[] dAct = new float[rows * f];
        MatMul.backwardInput(dAct, dOut, w.fcOut(), rows, f, d);
        MatMul.backwardWeight(g.fcOut(), dOut, a.gated, rows, f, d);
        GateScale.backward(dAct, a.act, rows, f, 1, m.ffn(), dm.ffn());
        float[] dGate = new float[rows * f];
        float[] dUp = new float[rows * f];
        SwiGlu.backward(dGate, dUp, dAct, a.gate, a.up, rows * f);
        float[] dFused = new float[rows * 2 * f];
        FusedRows.merge(dFused, new float[][]{dGate, dUp}, rows, 1, f);
        float[] dNormed = new float[rows * d];
        MatMul.backwardInput(dNormed, dFused, w.fcIn(), rows, d, 2 * f);
        MatMul.backwardWeight(g.fcIn(), dFused, a.normed, rows, d, 2 * f);
        LayerNorm.backwardMasked(dX, g.norm().weight(), g.norm().bias(), dNormed, a.in, w.norm().weight(), hidden, a.mean, a.rstd, rows, d);
    }

    /** [batch, kLen] all true: keys every query may read (the decoder has no padding; causality is the mask's). */
    static boolean[] allVisible(int batch, int kLen) {
        boolean[] all = new boolean[batch * kLen];
        java.util.Arrays.fill(all, true);
        return all;
    }
}
