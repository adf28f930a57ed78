package dev.shears.seq2seq;

import dev.shears.ShearsException;
import dev.shears.dist.Collective;
import dev.shears.dist.SingleProcess;
import dev.shears.prune.Criterion;
import dev.shears.prune.CriterionOptions;
import dev.shears.prune.Importance;

import java.util.Arrays;
import java.util.List;

/**
 * One score per layer of each stack of a T5 or an OpenBA, for choosing which layers go; lower goes first, except under
 * {@link Criterion#EVERY_K}, whose scores are the positions and whose rule is Jha et al.'s ({@link EncoderDecoderTarget}), and under
 * {@link Criterion#ANGULAR}, whose score of layer l is the distance over the block that starts there (the block with
 * the lowest goes whole).
 *
 * <p>The data-driven scores read each calibration window's teacher-forced forward ({@link WindowActivations#forward}: the
 * encoder reads the window's first half, the decoder is forced on the rest); with the windows shared over the ranks of a
 * {@link Collective} each window is scored apart and the windows' scores are added in window order
 * ({@link SharedWindows}), so they are the same bits for any number of ranks.
 *
 * @param criterion how they were computed
 * @param encoder   [encoder layers]
 * @param decoder   [decoder layers]
 */
public record EncoderDecoderLayerScores(Criterion criterion, double[] encoder, double[] decoder) {
    /** Layers scored by position only: {@link EncoderDecoderTarget} removes evenly spaced ones, data-free. */
    public static EncoderDecoderLayerScores everyK(T5Config c) {
        return new EncoderDecoderLayerScores(Criterion.EVERY_K, positions(c.encoder().size()), positions(c.decoder().size()));
    }

    /** {@link #everyK(T5Config)} for an OpenBA. */
    public static EncoderDecoderLayerScores everyK(OpenBaConfig c) {
        return new EncoderDecoderLayerScores(Criterion.EVERY_K, positions(c.encoder().size()), positions(c.decoder().size()));
    }

    /** {@link #everyK(T5Config)} of either model. */
    public static EncoderDecoderLayerScores everyK(EncoderDecoderConfig c) {
        return new EncoderDecoderLayerScores(Criterion.EVERY_K, positions(c.encoder().size()), positions(c.decoder().size()));
    }

    private static double[] positions(int n) {
        double[] p = new double[n];
        for (int l = 0; l < n; l++) p[l] = l;
        return p;
    }

    /** {@link #blockInfluence(EncoderDecoder, List, CriterionOptions.FinalState, Collective)} after the final norm, in one process. */
    public static EncoderDecoderLayerScores blockInfluence(T5Model model, List<int[]> windows) {
        return blockInfluence(model, windows, CriterionOptions.FinalState.NORMED, new SingleProcess());
    }

    /** {@link #blockInfluence(T5Model, List)} of an OpenBA (h_out after the last layer its final LayerNorm's output). */
    public static EncoderDecoderLayerScores blockInfluence(OpenBaModel model, List<int[]> windows) {
        return blockInfluence(model, windows, CriterionOptions.FinalState.NORMED, new SingleProcess());
    }

    /**
     * Block Influence (ShortGPT, METHODS.md §1): 1 − cos(h_in, h_out) of each layer, averaged over the tokens of every
     * window and then over the windows. h_in is the residual stream entering the layer; h_out the one entering the next
     * layer, or after the last layer the stack's final norm of it ({@code normed}: as transformers' last hidden state and
     * ShortGPT compare) or the residual stream itself.
     */
    public static EncoderDecoderLayerScores blockInfluence(EncoderDecoder model, List<int[]> windows, CriterionOptions.FinalState finalState, Collective collective) {
        if (windows.isEmpty()) throw new ShearsException("the block-influence criterion needs calibration windows");
        int d = model.config().dim();
        int encoderLayers = model.config().encoder().size();
        int decoderLayers = model.config().decoder().size();
        boolean normed = finalState == CriterionOptions.FinalState.NORMED;
        int n = windows.size();
        double[] sum = SharedWindows.sum(collective, windows, encoderLayers + decoderLayers, w -> {
            WindowActivations p = WindowActivations.forward(model, w);
            double[] v = new double[encoderLayers + decoderLayers];
            for (int l = 0; l < encoderLayers; l++) {
                float[] out = l + 1 < encoderLayers ? p.encoder().get(l + 1).in() : normed ? p.encoderOut() : p.encoderLast();
                v[l] = influence(p.encoder().get(l).in(), out, p.srcLen(), d) / n;
            }
            for (int l = 0; l < decoderLayers; l++) {
                float[] out = l + 1 < decoderLayers ? p.decoder().get(l + 1).in() : normed ? p.decoderOut() : p.decoderLast();
                v[encoderLayers + l] = influence(p.decoder().get(l).in(), out, p.tgtLen(), d) / n;
            }
            return v;
        });
        return new EncoderDecoderLayerScores(Criterion.BLOCK_INFLUENCE, Arrays.copyOf(sum, encoderLayers), Arrays.copyOfRange(sum, encoderLayers, sum.length));
    }

    /**
     * Angular distance (Gromov et al. 2024, METHODS.md §1) in each stack: layer l scores d(l, n) = arccos(cos(x_l, x_{l+n}))/π
     * between the input of layer l and the input of layer l + n of its stack ({@link Importance#angularDistance}, the
     * decoder-only criterion's arithmetic), at the stack's last position of each window ({@code last}) or averaged over
     * its positions, then averaged over the windows; x after the last layer is the stack's final norm of it
     * ({@code normed}) or the residual stream. A layer too late to start a block of n scores +∞. A stack whose span is 0
     * (nothing dropped from it) scores 0 everywhere.
     *
     * @param encoderSpan n of the encoder, 0..encoder layers
     * @param decoderSpan n of the decoder, 0..decoder layers
     */
    public static EncoderDecoderLayerScores angular(EncoderDecoder model, List<int[]> windows, int encoderSpan, int decoderSpan, CriterionOptions options,
                                        Collective collective) {
        if (windows.isEmpty()) throw new ShearsException("the angular criterion needs calibration windows");
        int d = model.config().dim();
        int encoderLayers = model.config().encoder().size();
        int decoderLayers = model.config().decoder().size();
        checkSpan(encoderSpan, encoderLayers, "encoder");
        checkSpan(decoderSpan, decoderLayers, "decoder");
        boolean normed = options.finalState() == CriterionOptions.FinalState.NORMED;
        boolean last = options.angularTokens() == CriterionOptions.AngularTokens.LAST;
        double[] sum = SharedWindows.sum(collective, windows, encoderLayers + decoderLayers, w -> {
            WindowActivations p = WindowActivations.forward(model, w);
            double[] v = new double[encoderLayers + decoderLayers];
            List<float[]> encoder = boundaries(p.encoder(), normed ? p.encoderOut() : p.encoderLast());
            List<float[]> decoder = boundaries(p.decoder(), normed ? p.decoderOut() : p.decoderLast());
            for (int l = 0; encoderSpan > 0 && l + encoderSpan <= encoderLayers; l++) {
                v[l] = Importance.angularDistance(encoder.get(l), encoder.get(l + encoderSpan), p.srcLen(), d, last);
            }
            for (int l = 0; decoderSpan > 0 && l + decoderSpan <= decoderLayers; l++) {
                v[encoderLayers + l] = Importance.angularDistance(decoder.get(l), decoder.get(l + decoderSpan), p.tgtLen(), d, last);
            }
            return v;
        });
        double[] encoder = Arrays.copyOf(sum, encoderLayers);
        double[] decoder = Arrays.copyOfRange(sum, encoderLayers, sum.length);
        finish(encoder, encoderSpan, windows.size());
        finish(decoder, decoderSpan, windows.size());
        return new EncoderDecoderLayerScores(Criterion.ANGULAR, encoder, decoder);
    }

    /** A one-line error unless an angular block of {@code span} fits a stack of {@code layers} (0: the stack drops none). */
    public static void checkSpan(int span, int layers, String stack) {
        if (span < 0 || span > layers) throw new ShearsException("angular distance needs a block of 1.." + layers + " " + stack + " layers, got " + span);
    }

    /** Layer k's input for k &lt; layers, then the state after the last layer. */
    private static List<float[]> boundaries(List<WindowActivations.Layer> layers, float[] after) {
        List<float[]> b = new java.util.ArrayList<>(layers.stream().map(WindowActivations.Layer::in).toList());
        b.add(after);
        return b;
    }

    /** The mean over the windows; a layer that starts no block of {@code span} scores +∞. */
    private static void finish(double[] scores, int span, int windows) {
        for (int l = 0; l < scores.length; l++) scores[l] = span > 0 && l + span > scores.length ? Double.POSITIVE_INFINITY : scores[l] / windows;
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
