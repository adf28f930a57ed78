package dev.shears.model;

import dev.shears.kernel.Attention;
import dev.shears.kernel.Embedding;
import dev.shears.kernel.MatMul;
import dev.shears.kernel.RmsNorm;
import dev.shears.kernel.Rope;
import dev.shears.kernel.SwiGlu;

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
            layer(model, l, activations, batchSize, seqLen, 0, null, masks);
        }
        head(model, activations, 0, rows, masks);
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
        if (n == 0 || n > activations.seqLen || activations.batchSize != 1) {
            throw new IllegalArgumentException(n + " tokens for activations of batch " + activations.batchSize + " × " + activations.seqLen);
        }
        if (cache.length() + n > cache.capacity()) {
            throw new IllegalArgumentException("KV cache full: " + cache.length() + " + " + n + " > " + cache.capacity());
        }
        ModelConfig c = model.config();
        embed(model, tokens, activations.residual, MaskSet.NONE);
        for (int l = 0; l < c.numLayers(); l++) {
            layer(model, l, activations, 1, n, cache.length(), cache, MaskSet.NONE);
        }
        head(model, activations, n - 1, 1, MaskSet.NONE);
        cache.advance(n);
        float[] last = new float[c.vocabSize()];
        System.arraycopy(activations.logits, 0, last, 0, last.length);
        return last;
    }

    private static void embed(Model model, int[] tokens, float[] x, MaskSet masks) {
        int dim = model.config().dim();
        Embedding.forward(x, tokens, model.weights().get(EMBEDDING), dim);
        if (masks.isActive()) scaleColumns(x, tokens.length, dim, masks.hidden());
    }

    /**
     * One decoder layer on {@code batchSize} sequences of {@code seqLen} new rows starting at {@code startPos}.
     * With a cache (batch 1), keys and values are appended to it and attention reads all cached positions;
     * without one, each sequence attends within itself.
     */
    private static void layer(Model model, int l, Activations acts, int batchSize, int seqLen, int startPos, KvCache cache, MaskSet masks) {
        ModelConfig c = model.config();
        ModelWeights w = model.weights();
        LayerShape shape = c.layer(l);
        Activations.Layer a = acts.layer(l);
        float[] x = acts.residual;
        int rows = batchSize * seqLen;
        int dim = c.dim();
        int hd = c.headDim();
        boolean gated = masks.isActive();
        if (acts.mode == Activations.Mode.TRAINING) System.arraycopy(x, 0, a.input, 0, rows * dim);

        if (shape.hasAttention()) {
            int qWidth = shape.numHeads() * hd;
            int kvWidth = shape.numKvHeads() * hd;
            norm(a.attentionNorm, a.attentionRstd, x, w.get(ATTENTION_NORM, l), rows, c, masks);
            if (c.attentionBias()) {
                MatMul.forward(a.query, a.attentionNorm, w.get(QUERY, l), w.get(QUERY_BIAS, l), rows, dim, qWidth);
                MatMul.forward(a.key, a.attentionNorm, w.get(KEY, l), w.get(KEY_BIAS, l), rows, dim, kvWidth);
                MatMul.forward(a.value, a.attentionNorm, w.get(VALUE, l), w.get(VALUE_BIAS, l), rows, dim, kvWidth);
            } else {
                MatMul.forward(a.query, a.attentionNorm, w.get(QUERY, l), rows, dim, qWidth);
                MatMul.forward(a.key, a.attentionNorm, w.get(KEY, l), rows, dim, kvWidth);
                MatMul.forward(a.value, a.attentionNorm, w.get(VALUE, l), rows, dim, kvWidth);
            }
            Rope.forward(a.query, rows, seqLen, startPos, shape.numHeads(), hd, acts.rope);
            Rope.forward(a.key, rows, seqLen, startPos, shape.numKvHeads(), hd, acts.rope);
            Attention.Shape attention = new Attention.Shape(seqLen, startPos, shape.numHeads(), shape.numKvHeads(), hd);
            if (cache != null) {
                float[] keys = cache.keys(l);
                float[] values = cache.values(l);
                System.arraycopy(a.key, 0, keys, startPos * kvWidth, seqLen * kvWidth);
                System.arraycopy(a.value, 0, values, startPos * kvWidth, seqLen * kvWidth);
                Attention.forwardInference(a.context, 0, cache.scores(), a.query, 0, keys, values, 0, attention);
            } else {
                for (int b = 0; b < batchSize; b++) {
                    int qOff = b * seqLen * qWidth;
                    int kvOff = b * seqLen * kvWidth;
                    if (acts.mode == Activations.Mode.TRAINING) {
                        int probsOff = b * shape.numHeads() * seqLen * seqLen;
                        Attention.forward(a.context, qOff, a.probs, probsOff, a.query, qOff, a.key, a.value, kvOff, attention);
                    } else {
                        Attention.forwardInference(a.context, qOff, a.probs, a.query, qOff, a.key, a.value, kvOff, attention);
                    }
                }
            }
            if (gated) scaleHeads(a.context, rows, shape.numHeads(), hd, masks.heads(l));
            MatMul.forward(a.attentionOut, a.context, w.get(OUTPUT, l), rows, qWidth, dim);
            if (gated) gateBlock(a.attentionOut, rows, dim, masks.attentionLayers()[l], masks.hidden());
            add(x, a.attentionOut, rows * dim);
        }
        if (acts.mode == Activations.Mode.TRAINING) System.arraycopy(x, 0, a.middle, 0, rows * dim);

        if (shape.hasFfn()) {
            int ffn = shape.ffnDim();
            norm(a.ffnNorm, a.ffnRstd, x, w.get(FFN_NORM, l), rows, c, masks);
            MatMul.forward(a.gate, a.ffnNorm, w.get(GATE, l), rows, dim, ffn);
            MatMul.forward(a.up, a.ffnNorm, w.get(UP, l), rows, dim, ffn);
            SwiGlu.forward(a.hidden, a.gate, a.up, rows * ffn);
            if (gated) scaleColumns(a.hidden, rows, ffn, masks.ffn(l));
            MatMul.forward(a.ffnOut, a.hidden, w.get(DOWN, l), rows, ffn, dim);
            if (gated) gateBlock(a.ffnOut, rows, dim, masks.ffnLayers()[l], masks.hidden());
            add(x, a.ffnOut, rows * dim);
        }
    }

    /** Final norm and LM head on rows [firstRow, firstRow + count) of the residual; logits start at row 0. */
    private static void head(Model model, Activations acts, int firstRow, int count, MaskSet masks) {
        ModelConfig c = model.config();
        int dim = c.dim();
        float[] x = acts.residual;
        if (firstRow != 0) System.arraycopy(x, firstRow * dim, x, 0, count * dim);
        norm(acts.finalNorm, acts.finalRstd, x, model.weights().get(FINAL_NORM), count, c, masks);
        MatMul.forward(acts.logits, acts.finalNorm, model.weights().get(LM_HEAD), count, dim, c.vocabSize());
    }

    private static void norm(float[] out, float[] rstd, float[] x, float[] weight, int rows, ModelConfig c, MaskSet masks) {
        if (masks.isActive()) {
            RmsNorm.forwardMasked(out, rstd, x, weight, masks.hidden(), rows, c.dim(), c.normEps());
        } else {
            RmsNorm.forward(out, rstd, x, weight, rows, c.dim(), c.normEps());
        }
    }

    /** x[r, j] *= gate[j] */
    private static void scaleColumns(float[] x, int rows, int cols, float[] gate) {
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) x[r * cols + j] *= gate[j];
        }
    }

    /** x[r, h*headDim + d] *= gate[h] */
    private static void scaleHeads(float[] x, int rows, int numHeads, int headDim, float[] gate) {
        int width = numHeads * headDim;
        for (int r = 0; r < rows; r++) {
            for (int h = 0; h < numHeads; h++) {
                for (int d = 0; d < headDim; d++) x[r * width + h * headDim + d] *= gate[h];
            }
        }
    }

    /** A block output scaled by its sub-layer gate and the hidden-channel gates. */
    private static void gateBlock(float[] out, int rows, int dim, float layerGate, float[] hidden) {
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < dim; j++) out[r * dim + j] *= layerGate * hidden[j];
        }
    }

    private static void add(float[] x, float[] y, int n) {
        for (int i = 0; i < n; i++) x[i] += y[i];
    }
}
