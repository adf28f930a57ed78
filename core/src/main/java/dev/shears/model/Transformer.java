package dev.shears.model;

import dev.shears.kernel.Attention;
import dev.shears.kernel.Embedding;
import dev.shears.kernel.GateScale;
import dev.shears.kernel.MatMul;
import dev.shears.kernel.RmsNorm;
import dev.shears.kernel.Rope;
import dev.shears.kernel.SwiGlu;
import dev.shears.tensor.Tensor;

import java.util.Optional;

import static dev.shears.model.TensorRole.*;

/**
 * The LLaMA-family decoder forward pass (Touvron et al. 2023; Hugging Face {@code LlamaForCausalLM}),
 * written to read like the architecture diagram:
 * <pre>
 * x = embed(tokens) ⊙ g_hidden
 * for each layer:
 *     x = x + g_attn · g_hidden ⊙ o_proj( g_head ⊙ attention( rope(q), rope(k), v ) ),   q,k,v = proj(rmsnorm(x))
 *     x = x + g_ffn  · g_hidden ⊙ down( g_neuron ⊙ silu(gate(n)) · up(n) ),             n = rmsnorm(x)
 * logits = lm_head( rmsnorm(x) )
 * </pre>
 * Gates ({@link MaskSet}) are applied only when active. Shapes come from the config, per layer.
 */
public final class Transformer {
    private Transformer() {
    }

    /**
     * Scores full sequences with causal attention.
     *
     * @param tokens [batchSize * seqLen], sequences back to back
     * @return the logits [batchSize * seqLen, vocabSize] (the {@code activations.logits} buffer)
     */
    public static float[] forward(Model model, int[] tokens, int batchSize, int seqLen, Activations activations, MaskSet masks) {
        if (tokens.length != batchSize * seqLen) {
            throw new IllegalArgumentException(tokens.length + " tokens for batch " + batchSize + " × " + seqLen);
        }
        if (activations.batchSize != batchSize || activations.seqLen != seqLen) {
            throw new IllegalArgumentException("activations are for batch " + activations.batchSize + " × " + activations.seqLen);
        }
        ModelConfig c = model.config();
        int rows = tokens.length;
        embed(model, tokens, activations.residual, masks);
        for (int l = 0; l < c.numLayers(); l++) {
            layer(model, l, activations, new Layout.Batch(batchSize, seqLen), masks);
        }
        head(model, activations, 0, rows, masks, Products.BY_ROWS);
        return activations.logits;
    }

    /**
     * Extends a generation: runs {@code tokens} at positions {@code cache.length()...}, stores their keys
     * and values in the cache, and returns the logits of the last of them.
     *
     * @param activations inference buffers with batch 1 and seqLen ≥ tokens.length
     * @return [vocabSize], a fresh array
     */
    public static float[] forwardCached(Model model, int[] tokens, KvCache cache, Activations activations) {
        int n = tokens.length;
        forwardCached(model, tokens, cache, activations, n - 1);
        float[] last = new float[model.config().vocabSize()];
        System.arraycopy(activations.logits, 0, last, 0, last.length);
        return last;
    }

    /**
     * Extends the cached sequence like {@link #forwardCached(Model, int[], KvCache, Activations)} but keeps
     * the logits of every new position from {@code logitsFrom} on: scoring a continuation after a cached
     * prefix (lm-evaluation-harness log-likelihoods with the shared context computed once).
     *
     * @param tokens     the new tokens, at positions {@code cache.length()...}
     * @param logitsFrom the first new position (0-based within {@code tokens}) whose logits are wanted;
     *                   {@code tokens.length} computes none (filling the cache only)
     * @return the {@code activations.logits} buffer: [tokens.length - logitsFrom, vocabSize] from row 0
     */
    public static float[] forwardCached(Model model, int[] tokens, KvCache cache, Activations activations, int logitsFrom) {
        return cached(model, tokens, cache, activations, logitsFrom, Products.BY_ROWS);
    }

    /**
     * {@link #forwardCached(Model, int[], KvCache, Activations, int)} for scoring: every matrix product takes the
     * blocked path ({@link MatMul#forwardRowIndependent}) however few the rows, so a continuation scored after its
     * cached prefix gets bit for bit what it gets packed with others ({@link #forwardPacked}).
     */
    public static float[] scoreCached(Model model, int[] tokens, KvCache cache, Activations activations, int logitsFrom) {
        return cached(model, tokens, cache, activations, logitsFrom, Products.BLOCKED);
    }

    private static float[] cached(Model model, int[] tokens, KvCache cache, Activations activations, int logitsFrom, Products products) {
        int n = tokens.length;
        if (logitsFrom < 0 || logitsFrom > n) throw new IllegalArgumentException("logits from " + logitsFrom + " of " + n + " tokens");
        if (n == 0 || n > activations.seqLen || activations.batchSize != 1) {
            throw new IllegalArgumentException(n + " tokens for activations of batch " + activations.batchSize + " × " + activations.seqLen);
        }
        if (cache.length() + n > cache.capacity()) {
            throw new IllegalArgumentException("KV cache full: " + cache.length() + " + " + n + " > " + cache.capacity());
        }
        ModelConfig c = model.config();
        embed(model, tokens, activations.residual, MaskSet.NONE);
        for (int l = 0; l < c.numLayers(); l++) {
            layer(model, l, activations, new Layout.Cached(n, cache, products), MaskSet.NONE);
        }
        if (logitsFrom < n) head(model, activations, logitsFrom, n - logitsFrom, MaskSet.NONE, products);
        cache.advance(n);
        return activations.logits;
    }

    /**
     * Runs packed sequences through every layer ({@link PackedSequences}: several sequences, or several
     * continuations of a shared prefix, in one pass); the residual stream after the last layer is left in
     * {@code activations.residual}, [rows, dim], for {@link #packedLogits}. Each row gets bit for bit what it
     * gets whatever else is packed with it and whatever the thread count: every matrix product takes the
     * blocked path ({@link MatMul#forwardRowIndependent}) and attention runs per segment. That is also what
     * {@link #scoreCached} gives a segment's sequence with its prefix in the cache ({@link #forwardCached} too,
     * where each of its calls has more than a few rows: fewer take the matrix–vector path, which rounds differently).
     *
     * @param activations from {@link Activations#forPacked}, with at least {@code packed.rows()} rows
     */
    public static void forwardPacked(Model model, PackedSequences packed, Activations activations) {
        int n = packed.rows();
        if (n > activations.seqLen || activations.batchSize != 1) {
            throw new IllegalArgumentException(n + " packed rows for activations of batch " + activations.batchSize + " × " + activations.seqLen);
        }
        embed(model, packed.tokens(), activations.residual, MaskSet.NONE);
        for (int l = 0; l < model.config().numLayers(); l++) {
            layer(model, l, activations, new Layout.Packed(packed), MaskSet.NONE);
        }
    }

    /**
     * Final norm and LM head of rows {@code rows[from .. from + count)} of the residual stream left by
     * {@link #forwardPacked} (the rows that are scored), at most {@code activations.logitRows()} at a time.
     *
     * @return the {@code activations.logits} buffer: [count, vocabSize] from row 0
     */
    public static float[] packedLogits(Model model, Activations activations, int[] rows, int from, int count) {
        if (count > activations.logitRows()) throw new IllegalArgumentException(count + " rows of logits for buffers of " + activations.logitRows());
        ModelConfig c = model.config();
        int dim = c.dim();
        float[] x = activations.finalNorm;
        for (int i = 0; i < count; i++) System.arraycopy(activations.residual, rows[from + i] * dim, x, i * dim, dim);
        RmsNorm.forward(x, activations.finalRstd, x, model.weights().get(FINAL_NORM), count, dim, c.normEps());
        MatMul.forwardRowIndependent(activations.logits, x, model.weights().tensor(LM_HEAD), null, count, dim, c.vocabSize());
        return activations.logits;
    }

    /**
     * The backward pass: the forward read in reverse, with the same names prefixed {@code d}. Reads the
     * training activations of the preceding {@link #forward} call (same tokens, same masks) and the
     * gradient of the loss with respect to the logits in {@code activations.gradients().logits}.
     * Accumulates into {@code grads} (a tied LM head accumulates into the embedding) and, when gates
     * are active, into {@code dMasks}.
     *
     * @param grads  same config as the model; accumulated into
     * @param dMasks gate gradients with the shape of {@code masks} (ignored when masks are NONE)
     */
    public static void backward(Model model, int[] tokens, Activations activations, MaskSet masks, ModelWeights grads, MaskSet dMasks) {
        Optional<ModelWeights> dW = Optional.of(grads);
        headBackward(model, activations, masks, dW);
        for (int l = model.config().numLayers() - 1; l >= 0; l--) layerBackward(model, l, activations, masks, dW, dMasks);
        embedBackward(model, tokens, activations, masks, dW, dMasks);
    }

    // ---------------------------------------------------------------- one layer at a time
    // The forward and backward above, cut at layer boundaries, for passes that touch one layer's
    // weights at a time (streamed calibration over a model larger than memory): the residual stream
    // enters and leaves each piece in activations.residual (forward) and gradients().residual
    // (backward). With Activations.forLayerwise one set of layer buffers serves every layer, so a
    // layer's backward must follow its own forward. Same kernels, same order: the same bits.

    /** The embedding lookup (and hidden gates) into {@code acts.residual}. */
    public static void embed(Model model, int[] tokens, Activations acts, MaskSet masks) {
        embed(model, tokens, acts.residual, masks);
    }

    /** Layer {@code l} on {@code acts.residual}, in place, keeping what its backward reads. */
    public static void layerForward(Model model, int l, Activations acts, MaskSet masks) {
        layer(model, l, acts, new Layout.Batch(acts.batchSize, acts.seqLen), masks);
    }

    /** Final norm and LM head on {@code acts.residual}; returns the logits buffer. */
    public static float[] headForward(Model model, Activations acts, MaskSet masks) {
        head(model, acts, 0, acts.rows(), masks, Products.BY_ROWS);
        return acts.logits;
    }

    /**
     * From {@code gradients().logits} to the gradient of the residual stream leaving the last layer,
     * in {@code gradients().residual}.
     *
     * @param grads weight gradients to accumulate into, or empty for none (gate gradients only)
     */
    public static void headBackward(Model model, Activations acts, MaskSet masks, Optional<ModelWeights> grads) {
        if (acts.mode != Activations.Mode.TRAINING) throw new IllegalArgumentException("backward needs training activations");
        ModelConfig c = model.config();
        ModelWeights w = model.weights();
        Activations.Gradients g = acts.gradients();
        int rows = acts.rows();
        int dim = c.dim();
        java.util.Arrays.fill(g.norm, 0, rows * dim, 0f);
        MatMul.backwardInput(g.norm, g.logits, w.tensor(LM_HEAD), rows, dim, c.vocabSize());
        if (grads.isPresent()) MatMul.backwardWeight(grads.get().get(LM_HEAD), g.logits, acts.finalNorm, rows, dim, c.vocabSize());
        java.util.Arrays.fill(g.residual, 0, rows * dim, 0f);
        RmsNorm.backward(g.residual, dNorm(grads, FINAL_NORM, -1, g), g.norm, acts.residual, w.get(FINAL_NORM), acts.finalRstd, rows, dim,
                normCount(c, masks));
    }

    /**
     * Layer {@code l}'s backward on {@code gradients().residual}, in place, after its forward.
     *
     * @param grads weight gradients to accumulate into, or empty for none (gate gradients only)
     */
    public static void layerBackward(Model model, int l, Activations acts, MaskSet masks, Optional<ModelWeights> grads, MaskSet dMasks) {
        layerBackward(model, l, acts, masks, grads, dMasks, normCount(model.config(), masks));
    }

    /** The embedding's backward: hidden gate gradients and, with {@code grads}, the table's. */
    public static void embedBackward(Model model, int[] tokens, Activations acts, MaskSet masks, Optional<ModelWeights> grads, MaskSet dMasks) {
        ModelConfig c = model.config();
        Activations.Gradients g = acts.gradients();
        if (masks.isActive()) {
            Embedding.forward(g.norm, tokens, model.weights().tensor(EMBEDDING));
            GateScale.backward(g.residual, g.norm, acts.rows(), c.dim(), 1, masks.get(Axis.HIDDEN), dMasks.get(Axis.HIDDEN));
        }
        if (grads.isPresent()) Embedding.backward(grads.get().get(EMBEDDING), g.residual, tokens, c.dim());
    }

    /** A norm's weight gradient, or a scratch row when only gate gradients are wanted. */
    private static float[] dNorm(Optional<ModelWeights> grads, TensorRole role, int layer, Activations.Gradients g) {
        return grads.isPresent() ? grads.get().get(role, layer) : g.discarded;
    }

    private static void layerBackward(Model model, int l, Activations acts, MaskSet masks, Optional<ModelWeights> grads, MaskSet dMasks, int count) {
        ModelConfig c = model.config();
        ModelWeights w = model.weights();
        LayerShape shape = c.layer(l);
        Activations.Layer a = acts.layer(l);
        Activations.Gradients g = acts.gradients();
        float[] dX = g.residual;
        int rows = acts.rows();
        int seqLen = acts.seqLen;
        int dim = c.dim();
        int hd = c.headDim();
        boolean gated = masks.isActive();

        if (shape.hasFfn()) {
            int ffn = shape.ffnDim();
            blockBackward(g.block, dX, a.ffnOut, rows, dim, masks, dMasks, gated ? masks.get(Axis.FFN_LAYER)[l] : 1f, gated ? dMasks.get(Axis.FFN_LAYER) : null, l);
            float[] hidden = gated ? a.gatedHidden : a.hidden;
            java.util.Arrays.fill(g.hidden, 0, rows * ffn, 0f);
            MatMul.backwardInput(g.hidden, g.block, w.tensor(DOWN, l), rows, ffn, dim);
            if (grads.isPresent()) MatMul.backwardWeight(grads.get().get(DOWN, l), g.block, hidden, rows, ffn, dim);
            if (gated) GateScale.backward(g.hidden, a.hidden, rows, ffn, 1, masks.get(Axis.FFN, l), dMasks.get(Axis.FFN, l));
            java.util.Arrays.fill(g.gate, 0, rows * ffn, 0f);
            java.util.Arrays.fill(g.up, 0, rows * ffn, 0f);
            SwiGlu.backward(g.gate, g.up, g.hidden, a.gate, a.up, rows * ffn);
            java.util.Arrays.fill(g.norm, 0, rows * dim, 0f);
            MatMul.backwardInput(g.norm, g.gate, w.tensor(GATE, l), rows, dim, ffn);
            MatMul.backwardInput(g.norm, g.up, w.tensor(UP, l), rows, dim, ffn);
            if (grads.isPresent()) MatMul.backwardWeight(grads.get().get(GATE, l), g.gate, a.ffnNorm, rows, dim, ffn);
            if (grads.isPresent()) MatMul.backwardWeight(grads.get().get(UP, l), g.up, a.ffnNorm, rows, dim, ffn);
            RmsNorm.backward(dX, dNorm(grads, FFN_NORM, l, g), g.norm, a.middle, w.get(FFN_NORM, l), a.ffnRstd, rows, dim, count);
        }

        if (shape.hasAttention()) {
            int qWidth = shape.numHeads() * hd;
            int kvWidth = shape.numKvHeads() * hd;
            blockBackward(g.block, dX, a.attentionOut, rows, dim, masks, dMasks, gated ? masks.get(Axis.ATTENTION_LAYER)[l] : 1f,
                    gated ? dMasks.get(Axis.ATTENTION_LAYER) : null, l);
            float[] context = gated ? a.gatedContext : a.context;
            java.util.Arrays.fill(g.context, 0, rows * qWidth, 0f);
            MatMul.backwardInput(g.context, g.block, w.tensor(OUTPUT, l), rows, qWidth, dim);
            if (grads.isPresent()) MatMul.backwardWeight(grads.get().get(OUTPUT, l), g.block, context, rows, qWidth, dim);
            if (gated) GateScale.backward(g.context, a.context, rows, shape.numHeads(), hd, masks.get(Axis.HEAD, l), dMasks.get(Axis.HEAD, l));
            java.util.Arrays.fill(g.query, 0, rows * qWidth, 0f);
            java.util.Arrays.fill(g.key, 0, rows * kvWidth, 0f);
            java.util.Arrays.fill(g.value, 0, rows * kvWidth, 0f);
            Attention.Shape attention = new Attention.Shape(seqLen, 0, shape.numHeads(), shape.numKvHeads(), hd);
            for (int b = 0; b < acts.batchSize; b++) {
                Attention.backward(g.query, g.key, g.value, g.context, b * seqLen * qWidth, b * seqLen * kvWidth,
                        a.probs, b * shape.numHeads() * seqLen * seqLen, a.query, a.key, a.value, attention);
            }
            Rope.backward(g.query, rows, seqLen, 0, shape.numHeads(), hd, acts.rope);
            Rope.backward(g.key, rows, seqLen, 0, shape.numKvHeads(), hd, acts.rope);
            if (c.attentionBias()) {
                if (grads.isPresent()) addColumnSums(grads.get().get(QUERY_BIAS, l), g.query, rows, qWidth);
                if (grads.isPresent()) addColumnSums(grads.get().get(KEY_BIAS, l), g.key, rows, kvWidth);
                if (grads.isPresent()) addColumnSums(grads.get().get(VALUE_BIAS, l), g.value, rows, kvWidth);
            }
            java.util.Arrays.fill(g.norm, 0, rows * dim, 0f);
            MatMul.backwardInput(g.norm, g.query, w.tensor(QUERY, l), rows, dim, qWidth);
            MatMul.backwardInput(g.norm, g.key, w.tensor(KEY, l), rows, dim, kvWidth);
            MatMul.backwardInput(g.norm, g.value, w.tensor(VALUE, l), rows, dim, kvWidth);
            if (grads.isPresent()) MatMul.backwardWeight(grads.get().get(QUERY, l), g.query, a.attentionNorm, rows, dim, qWidth);
            if (grads.isPresent()) MatMul.backwardWeight(grads.get().get(KEY, l), g.key, a.attentionNorm, rows, dim, kvWidth);
            if (grads.isPresent()) MatMul.backwardWeight(grads.get().get(VALUE, l), g.value, a.attentionNorm, rows, dim, kvWidth);
            RmsNorm.backward(dX, dNorm(grads, ATTENTION_NORM, l, g), g.norm, a.input, w.get(ATTENTION_NORM, l), a.attentionRstd, rows, dim, count);
        }
    }

    /**
     * Gradient through {@code x += out · layerGate · hidden}: {@code dOut = dX · layerGate · hidden}; with
     * gates active, the sub-layer gate and the hidden gates receive {@code Σ dX · out · (other factor)}.
     */
    private static void blockBackward(float[] dOut, float[] dX, float[] out, int rows, int dim, MaskSet masks, MaskSet dMasks,
                                      float layerGate, float[] dLayerGates, int layer) {
        if (!masks.isActive()) {
            System.arraycopy(dX, 0, dOut, 0, rows * dim);
            return;
        }
        float[] hidden = masks.get(Axis.HIDDEN);
        float[] dHidden = dMasks.get(Axis.HIDDEN);
        double dLayer = 0;
        for (int j = 0; j < dim; j++) {
            double dh = 0;
            for (int r = 0; r < rows; r++) {
                int i = r * dim + j;
                double product = (double) dX[i] * out[i];
                dh += product;
                dLayer += product * hidden[j];
                dOut[i] = dX[i] * (layerGate * hidden[j]);
            }
            dHidden[j] += (float) (dh * layerGate);
        }
        dLayerGates[layer] += (float) dLayer;
    }

    private static void addColumnSums(float[] dBias, float[] d, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) dBias[j] += d[r * cols + j];
        }
    }

    private static int normCount(ModelConfig c, MaskSet masks) {
        return masks.isActive() ? RmsNorm.keptChannels(masks.get(Axis.HIDDEN)) : c.dim();
    }

    private static void embed(Model model, int[] tokens, float[] x, MaskSet masks) {
        int dim = model.config().dim();
        Embedding.forward(x, tokens, model.weights().tensor(EMBEDDING));
        if (masks.isActive()) scaleColumns(x, tokens.length, dim, masks.get(Axis.HIDDEN));
    }

    /**
     * Which matrix product a pass takes: by the number of rows ({@link MatMul#forward}: matrix–vector for a few,
     * which generation needs), or always blocked, so that no row's result depends on the others (scoring).
     */
    private enum Products { BY_ROWS, BLOCKED }

    /** Where the rows of a pass sit: their RoPE positions and the keys each attends to. */
    private sealed interface Layout {
        int rows();

        Products products();

        /** {@code batchSize} sequences of {@code seqLen} rows from position 0, each attending within itself. */
        record Batch(int batchSize, int seqLen) implements Layout {
            public int rows() {
                return batchSize * seqLen;
            }

            public Products products() {
                return Products.BY_ROWS;
            }
        }

        /** {@code rows} new rows of one sequence after the cached positions; keys and values are appended to the cache. */
        record Cached(int rows, KvCache cache, Products products) implements Layout {
        }

        /** Packed segments ({@link PackedSequences}). */
        record Packed(PackedSequences packed) implements Layout {
            public int rows() {
                return packed.rows();
            }

            public Products products() {
                return Products.BLOCKED;
            }
        }
    }

    /** One decoder layer on the rows of {@code layout}, in place on {@code acts.residual}. */
    private static void layer(Model model, int l, Activations acts, Layout layout, MaskSet masks) {
        ModelConfig c = model.config();
        ModelWeights w = model.weights();
        LayerShape shape = c.layer(l);
        Activations.Layer a = acts.layer(l);
        float[] x = acts.residual;
        int rows = layout.rows();
        int dim = c.dim();
        int hd = c.headDim();
        boolean gated = masks.isActive();
        if (acts.mode == Activations.Mode.TRAINING) System.arraycopy(x, 0, a.input, 0, rows * dim);

        if (shape.hasAttention()) {
            int qWidth = shape.numHeads() * hd;
            int kvWidth = shape.numKvHeads() * hd;
            norm(a.attentionNorm, a.attentionRstd, x, w.get(ATTENTION_NORM, l), rows, c, masks);
            float[] qBias = c.attentionBias() ? w.get(QUERY_BIAS, l) : null;
            float[] kBias = c.attentionBias() ? w.get(KEY_BIAS, l) : null;
            float[] vBias = c.attentionBias() ? w.get(VALUE_BIAS, l) : null;
            linear(layout, a.query, a.attentionNorm, w.tensor(QUERY, l), qBias, rows, dim, qWidth);
            linear(layout, a.key, a.attentionNorm, w.tensor(KEY, l), kBias, rows, dim, kvWidth);
            linear(layout, a.value, a.attentionNorm, w.tensor(VALUE, l), vBias, rows, dim, kvWidth);
            attend(layout, l, acts, a, shape, hd);
            float[] context = gated ? a.gatedContext : a.context;
            if (gated) gateInto(context, a.context, rows, shape.numHeads(), hd, masks.get(Axis.HEAD, l));
            linear(layout, a.attentionOut, context, w.tensor(OUTPUT, l), null, rows, qWidth, dim);
            addBlock(x, a.attentionOut, rows, dim, masks, gated ? masks.get(Axis.ATTENTION_LAYER)[l] : 1f);
        }
        if (acts.mode == Activations.Mode.TRAINING) System.arraycopy(x, 0, a.middle, 0, rows * dim);

        if (shape.hasFfn()) {
            int ffn = shape.ffnDim();
            norm(a.ffnNorm, a.ffnRstd, x, w.get(FFN_NORM, l), rows, c, masks);
            linear(layout, a.gate, a.ffnNorm, w.tensor(GATE, l), null, rows, dim, ffn);
            linear(layout, a.up, a.ffnNorm, w.tensor(UP, l), null, rows, dim, ffn);
            SwiGlu.forward(a.hidden, a.gate, a.up, rows * ffn);
            float[] hidden = gated ? a.gatedHidden : a.hidden;
            if (gated) gateInto(hidden, a.hidden, rows, ffn, 1, masks.get(Axis.FFN, l));
            linear(layout, a.ffnOut, hidden, w.tensor(DOWN, l), null, rows, ffn, dim);
            addBlock(x, a.ffnOut, rows, dim, masks, gated ? masks.get(Axis.FFN_LAYER)[l] : 1f);
        }
    }

    /** A projection, by the layout's {@link Products}. */
    private static void linear(Layout layout, float[] out, float[] x, Tensor weight, float[] bias, int rows, int inDim, int outDim) {
        linear(layout.products(), out, x, weight, bias, rows, inDim, outDim);
    }

    private static void linear(Products products, float[] out, float[] x, Tensor weight, float[] bias, int rows, int inDim, int outDim) {
        if (products == Products.BLOCKED) MatMul.forwardRowIndependent(out, x, weight, bias, rows, inDim, outDim);
        else MatMul.forward(out, x, weight, bias, rows, inDim, outDim);
    }

    /**
     * RoPE on the layer's queries and keys, then attention into {@code a.context}: within each sequence of a
     * batch (keeping probabilities when training), after the cached positions (appending to the cache), or
     * per packed segment.
     */
    private static void attend(Layout layout, int l, Activations acts, Activations.Layer a, LayerShape shape, int hd) {
        int heads = shape.numHeads(), kvHeads = shape.numKvHeads();
        int qWidth = heads * hd;
        int kvWidth = kvHeads * hd;
        switch (layout) {
            case Layout.Batch(int batchSize, int seqLen) -> {
                int rows = batchSize * seqLen;
                Rope.forward(a.query, rows, seqLen, 0, heads, hd, acts.rope);
                Rope.forward(a.key, rows, seqLen, 0, kvHeads, hd, acts.rope);
                Attention.Shape attention = new Attention.Shape(seqLen, 0, heads, kvHeads, hd);
                for (int b = 0; b < batchSize; b++) {
                    int qOff = b * seqLen * qWidth;
                    int kvOff = b * seqLen * kvWidth;
                    if (acts.mode == Activations.Mode.TRAINING) {
                        int probsOff = b * heads * seqLen * seqLen;
                        Attention.forward(a.context, qOff, a.probs, probsOff, a.query, qOff, a.key, a.value, kvOff, attention);
                    } else {
                        Attention.forwardInference(a.context, qOff, a.query, qOff, a.key, a.value, kvOff, attention);
                    }
                }
            }
            case Layout.Cached(int rows, KvCache cache, Products products) -> {
                int startPos = cache.length();
                Rope.forward(a.query, rows, rows, startPos, heads, hd, acts.rope);
                Rope.forward(a.key, rows, rows, startPos, kvHeads, hd, acts.rope);
                float[] keys = cache.keys(l);
                float[] values = cache.values(l);
                System.arraycopy(a.key, 0, keys, startPos * kvWidth, rows * kvWidth);
                System.arraycopy(a.value, 0, values, startPos * kvWidth, rows * kvWidth);
                Attention.forwardInference(a.context, 0, a.query, 0, keys, values, 0, new Attention.Shape(rows, startPos, heads, kvHeads, hd));
            }
            case Layout.Packed(PackedSequences packed) -> {
                Rope.forward(a.query, packed.rows(), packed.positions(), heads, hd, acts.rope);
                Rope.forward(a.key, packed.rows(), packed.positions(), kvHeads, hd, acts.rope);
                Attention.forwardPacked(a.context, a.query, a.key, a.value, packed.attention(), heads, kvHeads, hd);
            }
        }
    }

    /** Final norm and LM head on rows [firstRow, firstRow + count) of the residual; logits start at row 0. */
    private static void head(Model model, Activations acts, int firstRow, int count, MaskSet masks, Products products) {
        ModelConfig c = model.config();
        int dim = c.dim();
        float[] x = acts.residual;
        if (firstRow != 0) System.arraycopy(x, firstRow * dim, x, 0, count * dim);
        norm(acts.finalNorm, acts.finalRstd, x, model.weights().get(FINAL_NORM), count, c, masks);
        linear(products, acts.logits, acts.finalNorm, model.weights().tensor(LM_HEAD), null, count, dim, c.vocabSize());
    }

    private static void norm(float[] out, float[] rstd, float[] x, float[] weight, int rows, ModelConfig c, MaskSet masks) {
        if (masks.isActive()) {
            RmsNorm.forwardMasked(out, rstd, x, weight, masks.get(Axis.HIDDEN), rows, c.dim(), c.normEps());
        } else {
            RmsNorm.forward(out, rstd, x, weight, rows, c.dim(), c.normEps());
        }
    }

    /** x[r, j] *= gate[j] */
    private static void scaleColumns(float[] x, int rows, int cols, float[] gate) {
        GateScale.forward(x, rows, cols, 1, gate);
    }

    /** out = x with unit u of {@code width} columns scaled by gate[u]; in place when out == x. */
    private static void gateInto(float[] out, float[] x, int rows, int units, int width, float[] gate) {
        if (out != x) System.arraycopy(x, 0, out, 0, rows * units * width);
        GateScale.forward(out, rows, units, width, gate);
    }

    /** The residual add of a block output, scaled by its sub-layer gate and the hidden gates when gates are active. */
    private static void addBlock(float[] x, float[] out, int rows, int dim, MaskSet masks, float layerGate) {
        if (!masks.isActive()) {
            for (int i = 0; i < rows * dim; i++) x[i] += out[i];
            return;
        }
        float[] hidden = masks.get(Axis.HIDDEN);
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < dim; j++) x[r * dim + j] += out[r * dim + j] * (layerGate * hidden[j]);
        }
    }
}
