package dev.shears.seq2seq;

import dev.shears.prune.IndexSets;

import java.util.ArrayList;
import java.util.List;

/**
 * Cuts a T5 to an {@link EncoderDecoderPlan}, in the vocabulary of {@link dev.shears.prune.Slicer}: a head keeps its
 * q, k and v rows ({@code prune_out_channels}) and its o columns ({@code prune_in_channels}); an FFN
 * neuron its {@code wi} (or {@code wi_0} and {@code wi_1}) row and its {@code wo} column; a hidden channel
 * its column of the shared embedding, of an untied LM head and of every q, k, v, wi, its row of every o
 * and wo, and its entry of every layer norm; a vocabulary id its row of the embedding and the head.
 * Removed layers are dropped and the rest renumbered; the relative bias tables stay whole (each kept head
 * reads its original column, {@link T5Config.Block#biasColumns}).
 *
 * <p>A tied head multiplies the decoder output by dim^-½, which changes with the hidden width; the factor
 * {@code √(kept / dim)} that keeps the head's input as the parent scaled it is folded into the decoder's
 * final layer norm, which feeds nothing else.
 */
public final class T5Slicer {
    private T5Slicer() {
    }

    /** The pruned model, in new fp32 arrays (the parent is not changed). */
    public static T5Model slice(T5Model parent, EncoderDecoderPlan plan) {
        T5Config c = parent.config();
        plan.validate(c);
        T5Config result = plan.resultConfig(c);
        T5Weights w = parent.weights();
        int[] hidden = plan.hidden();
        int[] vocab = plan.vocab();
        int d = c.dim();
        List<T5Weights.EncoderLayer> encoder = new ArrayList<>();
        for (int l = 0; l < c.encoder().size(); l++) {
            EncoderDecoderPlan.Layer p = plan.encoder().get(l);
            if (!p.kept()) continue;
            T5Weights.EncoderLayer layer = w.encoder().get(l);
            encoder.add(new T5Weights.EncoderLayer(attention(c, layer.self(), p.heads(), hidden), feedForward(c, layer.ffn(), p.ffn(), hidden)));
        }
        List<T5Weights.DecoderLayer> decoder = new ArrayList<>();
        for (int l = 0; l < c.decoder().size(); l++) {
            EncoderDecoderPlan.Layer p = plan.decoder().get(l);
            if (!p.kept()) continue;
            T5Weights.DecoderLayer layer = w.decoder().get(l);
            decoder.add(new T5Weights.DecoderLayer(attention(c, layer.self(), p.heads(), hidden), attention(c, layer.cross(), p.crossHeads(), hidden),
                    feedForward(c, layer.ffn(), p.ffn(), hidden)));
        }
        float[] shared = gather(w.shared(), d, vocab, hidden);
        float[] decoderNorm = gather(w.decoderNorm(), d, new int[]{0}, hidden);
        float fold = c.headScale() / result.headScale();
        for (int i = 0; i < decoderNorm.length; i++) decoderNorm[i] *= fold;
        float[] lmHead = c.tiedEmbeddings() ? shared : gather(w.lmHead(), d, vocab, hidden);
        return new T5Model(result, new T5Weights(shared, w.encoderBias().clone(), encoder, gather(w.encoderNorm(), d, new int[]{0}, hidden),
                w.decoderBias().clone(), decoder, decoderNorm, lmHead));
    }

    /** q, k, v: [heads·headDim, dim] keep the heads' rows and the hidden columns; o: [dim, heads·headDim] the reverse. */
    private static T5Weights.Attention attention(T5Config c, T5Weights.Attention a, int[] heads, int[] hidden) {
        int d = c.dim();
        int inner = a.heads() * c.headDim();
        int[] rows = IndexSets.expand(heads, c.headDim());
        return new T5Weights.Attention(gather(a.norm(), d, new int[]{0}, hidden), gather(a.query(), d, rows, hidden), gather(a.key(), d, rows, hidden),
                gather(a.value(), d, rows, hidden), gather(a.output(), inner, hidden, rows), heads.length);
    }

    /** wi, wi_0, wi_1: [ffnDim, dim] keep the neurons' rows and the hidden columns; wo: [dim, ffnDim] the reverse. */
    private static T5Weights.FeedForward feedForward(T5Config c, T5Weights.FeedForward f, int[] neurons, int[] hidden) {
        int d = c.dim();
        float[] gate = c.feedForward().gated() ? gather(f.gate(), d, neurons, hidden) : new float[0];
        return new T5Weights.FeedForward(gather(f.norm(), d, new int[]{0}, hidden), gate, gather(f.up(), d, neurons, hidden),
                gather(f.down(), f.ffnDim(), hidden, neurons), neurons.length);
    }

    /** The kept rows and columns of a row-major matrix with {@code cols} columns. */
    static float[] gather(float[] matrix, int cols, int[] rows, int[] columns) {
        float[] out = new float[rows.length * columns.length];
        for (int i = 0; i < rows.length; i++) {
            int from = rows[i] * cols;
            for (int j = 0; j < columns.length; j++) out[i * columns.length + j] = matrix[from + columns[j]];
        }
        return out;
    }
}
