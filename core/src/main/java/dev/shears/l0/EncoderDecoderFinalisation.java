package dev.shears.l0;

import dev.shears.format.hf.FolderWeights;
import dev.shears.l0.EncoderDecoderGates.Axis;
import dev.shears.l0.EncoderDecoderGates.Row;
import dev.shears.l0.EncoderDecoderGates.Stack;
import dev.shears.prune.IndexSets;
import dev.shears.prune.PlanBuilder;
import dev.shears.seq2seq.EncoderDecoder;
import dev.shears.seq2seq.EncoderDecoderConfig;
import dev.shears.seq2seq.EncoderDecoderMasks;
import dev.shears.seq2seq.OpenBaModel;
import dev.shears.seq2seq.OpenBaSlicer;
import dev.shears.seq2seq.OpenBaWeights;
import dev.shears.seq2seq.T5Model;
import dev.shears.seq2seq.EncoderDecoderPlan;
import dev.shears.seq2seq.T5Slicer;
import dev.shears.seq2seq.T5Weights;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns an encoder–decoder's learned gates into a smaller model of exactly the target shape, as {@link Finalisation}
 * does for decoder-only models (Sheared-LLaMA, METHODS.md §2):
 * <ol>
 *   <li>deterministic scores {@code σ(logAlpha/β·0.8)}, then top-k per row at the target's counts: each stack's layers by
 *       their layer gates, the hidden channels, and in every kept layer its heads, cross-attention heads and neurons
 *       ({@link #plan}, an {@link EncoderDecoderPlan});</li>
 *   <li>the deterministic gates: the score on kept units, 0 on dropped ones ({@link #masks});</li>
 *   <li>the gate values folded into adjacent weights ({@link #fold});</li>
 *   <li>the dropped units sliced away by {@link T5Slicer} or {@link OpenBaSlicer}.</li>
 * </ol>
 * The finalised model gives the logits of the parent under the deterministic gates.
 */
public final class EncoderDecoderFinalisation {
    private EncoderDecoderFinalisation() {
    }

    /** The kept units: top-k of the deterministic scores in every row, at the target counts. */
    public static EncoderDecoderPlan plan(EncoderDecoderGates gates) {
        EncoderDecoderConfig c = gates.parent();
        double[] s = gates.scores();
        int[] hidden = topK(s, gates.row(Axis.HIDDEN));
        boolean[] encoder = mark(c.encoder().size(), topK(s, gates.row(Axis.ENCODER_LAYER)));
        boolean[] decoder = mark(c.decoder().size(), topK(s, gates.row(Axis.DECODER_LAYER)));
        List<EncoderDecoderPlan.Layer> enc = new ArrayList<>(), dec = new ArrayList<>();
        for (int l = 0; l < encoder.length; l++) {
            enc.add(encoder[l] ? EncoderDecoderPlan.Layer.of(topK(s, gates.row(Axis.HEAD, Stack.ENCODER, l)), new int[0], topK(s, gates.row(Axis.FFN, Stack.ENCODER, l)))
                    : EncoderDecoderPlan.Layer.removed());
        }
        for (int l = 0; l < decoder.length; l++) {
            dec.add(decoder[l] ? EncoderDecoderPlan.Layer.of(topK(s, gates.row(Axis.HEAD, Stack.DECODER, l)), topK(s, gates.row(Axis.CROSS_HEAD, Stack.DECODER, l)),
                    topK(s, gates.row(Axis.FFN, Stack.DECODER, l))) : EncoderDecoderPlan.Layer.removed());
        }
        return new EncoderDecoderPlan(hidden, enc, dec, IndexSets.range(c.vocabSize()));
    }

    private static int[] topK(double[] scores, Row r) {
        return PlanBuilder.topK(EncoderDecoderGates.values(scores, r), r.kept());
    }

    private static boolean[] mark(int n, int[] kept) {
        boolean[] b = new boolean[n];
        for (int i : kept) b[i] = true;
        return b;
    }

    /** The deterministic gates of a plan: each kept unit's score, 0 elsewhere (a removed layer's gate 0). */
    public static EncoderDecoderMasks masks(EncoderDecoderGates gates, EncoderDecoderPlan plan) {
        EncoderDecoderMasks kept = EncoderDecoderMasks.of(plan, gates.parent());
        EncoderDecoderMasks scores = gates.write(gates.scores());
        kept.multiply(scores);
        return kept;
    }

    /**
     * Folds gate values into a copy of the weights so the ungated copy computes what the gated parent does:
     * <ul>
     *   <li>hidden gate g_j: column j of the shared embedding (both stacks' input), row j of every output projection
     *       ({@code o}, {@code wo}/{@code fc_out}, and OpenBA's {@code o} bias); with a tied LM head the embedding is also the
     *       head, so the decoder's final norm (weight, and OpenBA's bias) is divided by g_j;</li>
     *   <li>head gate and layer gate: the output projection's columns of the head and all its rows;</li>
     *   <li>neuron gate and layer gate: the down projection's column of the neuron and all its rows.</li>
     * </ul>
     * Units whose gate is 0 become 0 and are meant to be sliced away.
     */
    public static EncoderDecoder fold(EncoderDecoder parent, EncoderDecoderMasks m) {
        return switch (parent) {
            case T5Model t -> foldT5(t, m);
            case OpenBaModel o -> foldOpenBa(o, m);
        };
    }

    private static T5Model foldT5(T5Model parent, EncoderDecoderMasks m) {
        var c = parent.config();
        T5Weights w = T5Weights.zeros(c);
        FolderWeights.copy(v -> parent.weights().forEach(c, v), v -> w.forEach(c, v));
        int d = c.dim(), hd = c.headDim();
        float[] hidden = m.hidden();
        scaleColumns(w.shared(), d, hidden);
        if (c.tiedEmbeddings()) divide(w.decoderNorm(), hidden);
        for (int l = 0; l < c.encoder().size(); l++) {
            var layer = w.encoder().get(l);
            var g = m.encoder().get(l);
            scaleOutput(layer.self().output(), d, hd, g.gate(), hidden, g.heads());
            scaleOutput(layer.ffn().down(), d, 1, g.gate(), hidden, g.ffn());
        }
        for (int l = 0; l < c.decoder().size(); l++) {
            var layer = w.decoder().get(l);
            var g = m.decoder().get(l);
            scaleOutput(layer.self().output(), d, hd, g.gate(), hidden, g.heads());
            scaleOutput(layer.cross().output(), d, hd, g.gate(), hidden, g.crossHeads());
            scaleOutput(layer.ffn().down(), d, 1, g.gate(), hidden, g.ffn());
        }
        return new T5Model(c, w);
    }

    private static OpenBaModel foldOpenBa(OpenBaModel parent, EncoderDecoderMasks m) {
        var c = parent.config();
        OpenBaWeights w = OpenBaWeights.zeros(c);
        FolderWeights.copy(v -> parent.weights().forEach(c, v), v -> w.forEach(c, v));
        int d = c.dim(), hd = c.headDim();
        float[] hidden = m.hidden();
        scaleColumns(w.shared(), d, hidden);
        if (c.tiedEmbeddings()) {
            divide(w.decoderNorm().weight(), hidden);
            divide(w.decoderNorm().bias(), hidden);
        }
        for (int l = 0; l < c.encoder().size(); l++) {
            var layer = w.encoder().get(l);
            var g = m.encoder().get(l);
            scaleOutput(layer.self().output(), d, hd, g.gate(), hidden, g.heads());
            scaleBias(layer.self().outputBias(), g.gate(), hidden);
            scaleOutput(layer.ffn().fcOut(), d, 1, g.gate(), hidden, g.ffn());
        }
        for (int l = 0; l < c.decoder().size(); l++) {
            var layer = w.decoder().get(l);
            var g = m.decoder().get(l);
            scaleOutput(layer.self().output(), d, hd, g.gate(), hidden, g.heads());
            scaleBias(layer.self().outputBias(), g.gate(), hidden);
            scaleOutput(layer.cross().output(), d, hd, g.gate(), hidden, g.crossHeads());
            scaleBias(layer.cross().outputBias(), g.gate(), hidden);
            scaleOutput(layer.ffn().fcOut(), d, 1, g.gate(), hidden, g.ffn());
        }
        return new OpenBaModel(c, w);
    }

    /** {@code m[r, j] *= hidden[j]} of a [rows, dim] matrix. */
    private static void scaleColumns(float[] matrix, int dim, float[] hidden) {
        for (int i = 0; i < matrix.length; i++) matrix[i] *= hidden[i % dim];
    }

    /** {@code x[j] /= hidden[j]} where the gate is non-zero (a dropped channel is sliced away). */
    private static void divide(float[] x, float[] hidden) {
        for (int j = 0; j < x.length; j++) if (hidden[j] != 0f) x[j] /= hidden[j];
    }

    /** An output projection [dim, units·width]: row j by {@code layerGate·hidden[j]}, the columns of unit u by {@code units[u]}. */
    private static void scaleOutput(float[] out, int dim, int width, float layerGate, float[] hidden, float[] units) {
        int cols = units.length * width;
        for (int j = 0; j < dim; j++) {
            for (int k = 0; k < cols; k++) out[j * cols + k] *= layerGate * hidden[j] * units[k / width];
        }
    }

    private static void scaleBias(float[] bias, float layerGate, float[] hidden) {
        for (int j = 0; j < bias.length; j++) bias[j] *= layerGate * hidden[j];
    }

    /** The finalised model: deterministic gates folded into the weights, dropped units sliced away. */
    public static EncoderDecoder finalise(EncoderDecoder parent, EncoderDecoderGates gates, EncoderDecoderPlan plan) {
        EncoderDecoder folded = fold(parent, masks(gates, plan));
        return switch (folded) {
            case T5Model t -> T5Slicer.slice(t, plan);
            case OpenBaModel o -> OpenBaSlicer.slice(o, plan);
        };
    }
}
