package dev.shears.seq2seq;

import dev.shears.ShearsException;
import dev.shears.prune.Criterion;

import java.util.List;
import java.util.function.Function;

/**
 * One score per layer of each stack of a T5 or an OpenBA, for choosing which layers go; lower goes first, except under
 * {@link Criterion#EVERY_K}, whose scores are the positions and whose rule is Jha et al.'s ({@link T5Target}).
 *
 * @param criterion how they were computed
 * @param encoder   [encoder layers]
 * @param decoder   [decoder layers]
 */
public record T5LayerScores(Criterion criterion, double[] encoder, double[] decoder) {
    /** Layers scored by position only: {@link T5Target} removes evenly spaced ones, data-free. */
    public static T5LayerScores everyK(T5Config c) {
        return new T5LayerScores(Criterion.EVERY_K, positions(c.encoder().size()), positions(c.decoder().size()));
    }

    /** {@link #everyK(T5Config)} for an OpenBA. */
    public static T5LayerScores everyK(OpenBaConfig c) {
        return new T5LayerScores(Criterion.EVERY_K, positions(c.encoder().size()), positions(c.decoder().size()));
    }

    private static double[] positions(int n) {
        double[] p = new double[n];
        for (int l = 0; l < n; l++) p[l] = l;
        return p;
    }

    /**
     * Block Influence (ShortGPT, METHODS.md §1): 1 − cos(h_in, h_out) of each layer, averaged over the tokens of every
     * window ({@link T5#forwardWindow}: the encoder reads its first half, the decoder is forced on the rest) and then over
     * the windows. h_in is the residual stream entering the layer; h_out the one entering the next layer, or after the
     * last layer the stack's final layer norm of it (as transformers' last hidden state and ShortGPT compare).
     */
    public static T5LayerScores blockInfluence(T5Model model, List<int[]> windows) {
        T5Config c = model.config();
        return blockInfluence(c.dim(), c.encoder().size(), c.decoder().size(), windows, w -> WindowActivations.of(T5.forwardWindow(model, w)));
    }

    /** {@link #blockInfluence(T5Model, List)} of an OpenBA ({@link OpenBa#forwardWindow}; h_out after the last layer its final LayerNorm's output). */
    public static T5LayerScores blockInfluence(OpenBaModel model, List<int[]> windows) {
        OpenBaConfig c = model.config();
        return blockInfluence(c.dim(), c.encoder().size(), c.decoder().size(), windows, w -> WindowActivations.of(OpenBa.forwardWindow(model, w)));
    }

    private static T5LayerScores blockInfluence(int d, int encoderLayers, int decoderLayers, List<int[]> windows, Function<int[], WindowActivations> forward) {
        if (windows.isEmpty()) throw new ShearsException("the block-influence criterion needs calibration windows");
        double[] encoder = new double[encoderLayers];
        double[] decoder = new double[decoderLayers];
        for (int[] w : windows) {
            WindowActivations p = forward.apply(w);
            for (int l = 0; l < encoder.length; l++) {
                float[] out = l + 1 < encoder.length ? p.encoder().get(l + 1).in() : p.encoderOut();
                encoder[l] += influence(p.encoder().get(l).in(), out, p.srcLen(), d) / windows.size();
            }
            for (int l = 0; l < decoder.length; l++) {
                float[] out = l + 1 < decoder.length ? p.decoder().get(l + 1).in() : p.decoderOut();
                decoder[l] += influence(p.decoder().get(l).in(), out, p.tgtLen(), d) / windows.size();
            }
        }
        return new T5LayerScores(Criterion.BLOCK_INFLUENCE, encoder, decoder);
    }

    /** The mean over rows of 1 − cos(in_r, out_r); in and out [rows, dim]. */
    private static double influence(float[] in, float[] out, int rows, int dim) {
        double sum = 0;
        for (int r = 0; r < rows; r++) {
            double dot = 0, a = 0, b = 0;
            for (int j = 0; j < dim; j++) {
                double x = in[r * dim + j], y = out[r * dim + j];
                dot += x * y;
                a += x * x;
                b += y * y;
            }
            sum += a * b > 0 ? 1 - dot / Math.sqrt(a * b) : 0; // a zero state has no direction: no influence measured
        }
        return sum / rows;
    }
}
