package dev.shears.seq2seq;

import dev.shears.prune.IndexSets;

import java.util.ArrayList;
import java.util.List;

import static dev.shears.seq2seq.T5Slicer.gather;

/**
 * Cuts an OpenBA to an {@link EncoderDecoderPlan}, in the vocabulary of {@link dev.shears.prune.Slicer}, keeping the fused
 * tensors fused (docs/design.md, seq2seq): a self-attention head keeps its whole [q | k | v] block of rows of
 * {@code qkv} and of its bias, a cross-attention head its {@code q} rows and its [k | v] block of {@code kv}, and each
 * its {@code o} columns; an FFN neuron i keeps rows i and ffnDim + i of {@code fc_in} (its gate and its up) and column i
 * of {@code fc_out}; a hidden channel its column of the embedding, of an untied LM head and of every qkv, q, kv and
 * fc_in, its row of every o and fc_out and its entry of every o bias and of every LayerNorm's weight and bias (the
 * LM-head bias is per token and stays); a vocabulary id its row of the embedding, of the head and its head bias.
 * Removed layers are dropped and the rest renumbered: rotary tables depend on position only.
 *
 * <p>A tied head multiplies the decoder output by dim^-½; the factor {@code √(kept / dim)} that keeps the head's
 * input as the parent scaled it is folded into the weight and the bias of the decoder's final LayerNorm, which feeds
 * nothing else. A LayerNorm over fewer channels normalises by their own mean and variance, so a hidden cut is not
 * equal to masking those channels in the parent; heads, neurons, layers and vocabulary are.
 */
public final class OpenBaSlicer {
    private OpenBaSlicer() {
    }

    /** The pruned model, in new fp32 arrays (the parent is not changed). */
    public static OpenBaModel slice(OpenBaModel parent, EncoderDecoderPlan plan) {
        OpenBaConfig c = parent.config();
        plan.validate(c);
        OpenBaConfig result = plan.resultConfig(c);
        OpenBaWeights w = parent.weights();
        int[] hidden = plan.hidden();
        int[] vocab = plan.vocab();
        int d = c.dim();
        List<OpenBaWeights.EncoderLayer> encoder = new ArrayList<>();
        for (int l = 0; l < c.encoder().size(); l++) {
            EncoderDecoderPlan.Layer p = plan.encoder().get(l);
            if (!p.kept()) continue;
            OpenBaWeights.EncoderLayer layer = w.encoder().get(l);
            encoder.add(new OpenBaWeights.EncoderLayer(self(c, layer.self(), p.heads(), hidden), feedForward(c, layer.ffn(), p.ffn(), hidden)));
        }
        List<OpenBaWeights.DecoderLayer> decoder = new ArrayList<>();
        for (int l = 0; l < c.decoder().size(); l++) {
            EncoderDecoderPlan.Layer p = plan.decoder().get(l);
            if (!p.kept()) continue;
            OpenBaWeights.DecoderLayer layer = w.decoder().get(l);
            decoder.add(new OpenBaWeights.DecoderLayer(self(c, layer.self(), p.heads(), hidden), cross(c, layer.cross(), p.crossHeads(), hidden),
                    feedForward(c, layer.ffn(), p.ffn(), hidden)));
        }
        float[] shared = gather(w.shared(), d, vocab, hidden);
        OpenBaWeights.Norm decoderNorm = norm(w.decoderNorm(), hidden);
        float fold = c.headScale() / result.headScale();
        for (float[] v : new float[][]{decoderNorm.weight(), decoderNorm.bias()}) for (int i = 0; i < v.length; i++) v[i] *= fold;
        float[] lmHead = c.tiedEmbeddings() ? shared : gather(w.lmHead(), d, vocab, hidden);
        return new OpenBaModel(result, new OpenBaWeights(shared, encoder, norm(w.encoderNorm(), hidden), decoder, decoderNorm, lmHead,
                column(w.lmHeadBias(), vocab)));
    }

    /** qkv: [heads·3·headDim, dim] keeps each kept head's [q | k | v] rows and the hidden columns; o: [dim, heads·headDim] the reverse. */
    private static OpenBaWeights.SelfAttention self(OpenBaConfig c, OpenBaWeights.SelfAttention a, int[] heads, int[] hidden) {
        int hd = c.headDim();
        int[] fused = IndexSets.expand(heads, 3 * hd);
        return new OpenBaWeights.SelfAttention(norm(a.norm(), hidden), gather(a.qkv(), c.dim(), fused, hidden), column(a.qkvBias(), fused),
                gather(a.output(), a.heads() * hd, hidden, IndexSets.expand(heads, hd)), column(a.outputBias(), hidden), heads.length);
    }

    /** q: [heads·headDim, dim] and kv: [heads·2·headDim, dim] keep the kept heads' rows (kv's [k | v] block each); o the reverse. */
    private static OpenBaWeights.CrossAttention cross(OpenBaConfig c, OpenBaWeights.CrossAttention a, int[] heads, int[] hidden) {
        int hd = c.headDim();
        int d = c.dim();
        int[] rows = IndexSets.expand(heads, hd);
        int[] fused = IndexSets.expand(heads, 2 * hd);
        return new OpenBaWeights.CrossAttention(norm(a.norm(), hidden), gather(a.query(), d, rows, hidden), column(a.queryBias(), rows),
                gather(a.keyValue(), d, fused, hidden), column(a.keyValueBias(), fused), gather(a.output(), a.heads() * hd, hidden, rows),
                column(a.outputBias(), hidden), heads.length);
    }

    /** fc_in: [2·ffnDim, dim] keeps rows i (gate) and ffnDim + i (up) of each kept neuron, still [gate | up]; fc_out: [dim, ffnDim] its column. */
    private static OpenBaWeights.FeedForward feedForward(OpenBaConfig c, OpenBaWeights.FeedForward f, int[] neurons, int[] hidden) {
        int[] rows = new int[2 * neurons.length];
        for (int i = 0; i < neurons.length; i++) {
            rows[i] = neurons[i];
            rows[neurons.length + i] = f.ffnDim() + neurons[i];
        }
        return new OpenBaWeights.FeedForward(norm(f.norm(), hidden), gather(f.fcIn(), c.dim(), rows, hidden), gather(f.fcOut(), f.ffnDim(), hidden, neurons),
                neurons.length);
    }

    private static OpenBaWeights.Norm norm(OpenBaWeights.Norm n, int[] hidden) {
        return new OpenBaWeights.Norm(column(n.weight(), hidden), column(n.bias(), hidden));
    }

    /** The kept entries of a vector. */
    private static float[] column(float[] v, int[] kept) {
        return gather(v, 1, kept, new int[]{0});
    }
}
