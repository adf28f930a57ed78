package dev.shears.prune;

import dev.shears.ShearsException;
import dev.shears.dist.Collective;
import dev.shears.dist.OrderedSum;
import dev.shears.dist.SingleProcess;
import dev.shears.kernel.RmsNorm;
import dev.shears.model.Activations;
import dev.shears.model.Axis;
import dev.shears.model.LayerShape;
import dev.shears.model.MaskSet;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.model.TensorRole;
import dev.shears.progress.Progress;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.SplittableRandom;

/**
 * Computes {@link ImportanceScores} with one criterion. Data-driven criteria run the model on
 * calibration sequences (each {@code seqLen + 1} tokens: inputs and next-token targets).
 */
public final class Importance {
    private Importance() {
    }

    /** {@link #compute(Model, Criterion, List, long, int, CriterionOptions, Progress)} with {@link CriterionOptions#DEFAULT}. */
    public static ImportanceScores compute(Model model, Criterion criterion, List<int[]> calibration, long seed, int angularSpan, Progress progress) {
        return compute(model, criterion, calibration, seed, angularSpan, CriterionOptions.DEFAULT, progress);
    }

    /**
     * @param calibration sequences of equal length (ignored by data-free criteria)
     * @param angularSpan n, the block length of the angular criterion
     * @param options     the variants of the data-driven criteria
     */
    public static ImportanceScores compute(Model model, Criterion criterion, List<int[]> calibration, long seed, int angularSpan, CriterionOptions options,
                                           Progress progress) {
        return switch (criterion) {
            case MAGNITUDE -> magnitude(model);
            case RANDOM -> random(model.config(), seed);
            case EVERY_K -> everyK(model.config());
            case ACTIVATION, TAYLOR, BLOCK_INFLUENCE, ANGULAR -> calibrated(model, criterion, calibration, angularSpan, options, progress, new SingleProcess())
                    .scores();
        };
    }

    /**
     * Scores and, for a data-driven criterion, the mean next-token loss of the calibration windows from
     * the same forward pass (for the perplexity before pruning): one pass over a large model instead of
     * two. With {@link Criterion#ACTIVATION}, the layer scores are block influence's, from the same pass.
     */
    public record Calibrated(ImportanceScores scores, OptionalDouble meanLoss) {
    }

    /**
     * {@link #compute} for a data-driven criterion, with the windows' mean loss, as one of the ranks of {@code collective}: each
     * rank runs its contiguous share of the windows; every window's scores and loss are added in window order over the ranks
     * ({@link OrderedSum}), so every rank gets the bits one process computes, for any number of ranks; so are the weight
     * gradients' sums of Taylor's weight-level variants ({@link TaylorPass}).
     */
    public static Calibrated calibrate(Model model, Criterion criterion, List<int[]> calibration, int angularSpan, CriterionOptions options,
                                       Progress progress, Collective collective) {
        return calibrated(model, criterion, calibration, angularSpan, options, progress, collective);
    }

    /** The mean next-token loss over calibration windows, one layer's weights at a time (see {@link LayerwisePass}). */
    public static double meanLoss(Model model, List<int[]> windows, Progress progress) {
        return meanLoss(model, windows, progress, new SingleProcess());
    }

    /** {@link #meanLoss(Model, List, Progress)}, the windows shared over the ranks of {@code collective} (the same bits for any number of ranks). */
    public static double meanLoss(Model model, List<int[]> windows, Progress progress, Collective collective) {
        return LayerwisePass.meanLoss(model, windows, progress, collective);
    }

    /** L2 norm of the weights of each unit, read through the tensor-role table one row at a time (mapped weights stream). */
    static ImportanceScores magnitude(Model model) {
        ModelConfig c = model.config();
        ImportanceScores s = ImportanceScores.zeros(c, Criterion.MAGNITUDE, 0);
        model.weights().forEachTensor((role, layer, tensor) -> {
            Axis[] axes = role.axes();
            float[] row = new float[tensor.cols()];
            double total = 0;
            for (int r = 0; r < tensor.rows(); r++) {
                tensor.read(r, 0, row.length, row, 0);
                for (int j = 0; j < row.length; j++) {
                    double sq = (double) row[j] * row[j];
                    total += sq;
                    if (axes.length == 2) {
                        accumulate(s, c, layer, axes[0], r, sq);
                        accumulate(s, c, layer, axes[1], j, sq);
                    } else {
                        accumulate(s, c, layer, axes[0], j, sq);
                    }
                }
            }
            tensor.release();
            if (role.perLayer) {
                s.of(Axis.LAYER)[layer] += total;
                s.of(role.subLayer.axis())[layer] += total;
            }
        });
        sqrtAll(s);
        return s;
    }

    /** Adds a squared weight to the unit it belongs to along one dimension (axes without scores of their own are skipped). */
    private static void accumulate(ImportanceScores s, ModelConfig c, int layer, Axis axis, int index, double sq) {
        if (ImportanceScores.scores(axis)) s.of(axis, axis.perLayer ? layer : 0)[index / axis.unitWidth(c)] += sq;
    }

    private static void sqrtAll(ImportanceScores s) {
        s.forEachRow(Importance::sqrt);
    }

    private static void sqrt(double[] x) {
        for (int i = 0; i < x.length; i++) x[i] = Math.sqrt(x[i]);
    }

    static ImportanceScores random(ModelConfig c, long seed) {
        ImportanceScores s = ImportanceScores.zeros(c, Criterion.RANDOM, 0);
        SplittableRandom r = new SplittableRandom(seed);
        s.forEachRow(row -> fill(row, r));
        return s;
    }

    private static void fill(double[] x, SplittableRandom r) {
        for (int i = 0; i < x.length; i++) x[i] = r.nextDouble();
    }

    /** Layers scored by position only; the plan builder picks every k-th layer or explicit indices. */
    static ImportanceScores everyK(ModelConfig c) {
        ImportanceScores s = ImportanceScores.zeros(c, Criterion.EVERY_K, 0);
        for (int l = 0; l < c.numLayers(); l++) s.of(Axis.LAYER)[l] = l;
        return s;
    }

    /**
     * Data-driven scores from a {@link LayerwisePass}: layers outermost, so one layer's weights are
     * touched at a time. Taylor saves each layer's input on the way up, then goes down layer by layer
     * ({@link TaylorPass}), recomputing that layer's forward from its saved input and back-propagating
     * through it to the gate gradients (and, for the weight-level variants, to that layer's weight
     * gradients only). Every sum runs over the sequences in order, so the gradients are those of a
     * whole-model forward and backward per sequence, bit for bit. Activation, block influence and angular distance score
     * each window apart and add the windows' scores in window order at the end, whichever rank scored them.
     */
    private static Calibrated calibrated(Model model, Criterion criterion, List<int[]> calibration, int span, CriterionOptions options, Progress progress,
                                         Collective collective) {
        if (calibration.isEmpty()) throw new ShearsException(criterion + " importance needs calibration data");
        ModelConfig c = model.config();
        int seqLen = calibration.getFirst().length - 1;
        for (int[] sequence : calibration) {
            if (sequence.length != seqLen + 1) throw new ShearsException("calibration sequences must all have " + (seqLen + 1) + " tokens");
        }
        if (criterion == Criterion.ANGULAR && (span < 1 || span >= c.numLayers() + 1)) {
            throw new ShearsException("angular distance needs a block of 1.." + c.numLayers() + " layers, got " + span);
        }
        int n = calibration.size();
        int rows = seqLen * c.dim();
        ImportanceScores s = ImportanceScores.zeros(c, criterion, n);
        boolean taylor = criterion == Criterion.TAYLOR;
        boolean normed = options.finalState() == CriterionOptions.FinalState.NORMED;
        boolean lastToken = options.angularTokens() == CriterionOptions.AngularTokens.LAST;
        MaskSet masks = taylor ? MaskSet.ones(c) : MaskSet.NONE;
        Activations acts = Activations.forLayerwise(c, 1, seqLen);
        LayerwisePass pass = new LayerwisePass(model, LayerwisePass.share(collective, calibration), seqLen);
        int own = pass.windows();
        // each window's own scores (Taylor's go through its gate gradients instead), added in window order at the end
        ImportanceScores[] perWindow = new ImportanceScores[taylor ? 0 : own];
        for (int i = 0; i < perWindow.length; i++) perWindow[i] = ImportanceScores.zeros(c, criterion, n);
        float[][][] inputs = taylor ? new float[c.numLayers()][own][] : null;
        double[][] hidden = criterion == Criterion.ACTIVATION ? new double[own][c.dim()] : null;
        // angular: the last span + 1 layer boundaries of every sequence (boundary k is layer k's input)
        float[][][] boundaries = criterion == Criterion.ANGULAR ? new float[span + 1][own][] : null;
        String label = "calibrating (" + criterion.name().toLowerCase(java.util.Locale.ROOT) + ")";
        pass.forward(acts, masks, (l, i, input, a) -> {
            Activations.Layer layer = a.layer(l);
            switch (criterion) {
                case TAYLOR -> inputs[l][i] = input.clone();
                case ACTIVATION -> {
                    addActivations(perWindow[i], c, l, layer, seqLen, hidden[i]);
                    addBlockInfluence(perWindow[i], c, l, input, layer.middle, output(model, l, a.residual, seqLen, normed), seqLen);
                }
                case BLOCK_INFLUENCE -> addBlockInfluence(perWindow[i], c, l, input, layer.middle, output(model, l, a.residual, seqLen, normed), seqLen);
                case ANGULAR -> {
                    if (l == 0) boundaries[0][i] = input.clone();
                    int k = l + 1;
                    boundaries[k % (span + 1)][i] = java.util.Arrays.copyOf(output(model, l, a.residual, seqLen, normed), rows);
                    if (k >= span) {
                        addAngular(perWindow[i], c, k - span, boundaries[(k - span) % (span + 1)][i], boundaries[k % (span + 1)][i], seqLen, lastToken);
                    }
                }
                default -> throw new IllegalStateException(criterion.name());
            }
        }, progress, label);
        double[] losses = taylor ? TaylorPass.run(model, pass, acts, masks, inputs, s, options, progress, collective, n) : pass.losses(acts, masks);
        double loss = LayerwisePass.mean(collective, n, losses);
        if (!taylor) {
            List<double[]> mine = new ArrayList<>(own);
            for (int i = 0; i < own; i++) {
                if (criterion == Criterion.ACTIVATION) {
                    for (int j = 0; j < c.dim(); j++) perWindow[i].of(Axis.HIDDEN)[j] += hidden[i][j] * hidden[i][j];
                }
                mine.add(perWindow[i].values());
            }
            double[] sum = new double[s.size()];
            OrderedSum.sumDoubles(collective, n, mine, sum);
            s.setValues(sum);
        }
        if (criterion == Criterion.ACTIVATION) {
            for (Axis a : ImportanceScores.AXES) if (!a.isDepth()) for (double[] row : s.rows().get(a)) sqrt(row);
        }
        if (criterion == Criterion.ACTIVATION || criterion == Criterion.BLOCK_INFLUENCE || criterion == Criterion.ANGULAR) {
            // layer scores are means over the windows (an activation pass scores layers by block influence)
            for (Axis a : ImportanceScores.AXES) if (a.isDepth()) scale(s.of(a), 1.0 / n);
        }
        if (criterion == Criterion.ANGULAR) {
            for (int l = c.numLayers() - span + 1; l < c.numLayers(); l++) s.of(Axis.LAYER)[l] = Double.POSITIVE_INFINITY;
        }
        return new Calibrated(s, OptionalDouble.of(loss));
    }

    /**
     * Minitron, one layer of one sequence: the mean over positions of |activation| per head (L2 over
     * the head's width), neuron and hidden channel; heads and neurons are squared and summed over
     * sequences (L2 over the batch after sqrt); hidden channels add up over layers in {@code hidden}
     * first and are squared per sequence at the end.
     */
    private static void addActivations(ImportanceScores s, ModelConfig c, int l, Activations.Layer a, int seqLen, double[] hidden) {
        int dim = c.dim();
        int hd = c.headDim();
        LayerShape shape = c.layer(l);
        if (shape.hasAttention()) {
            int width = shape.numHeads() * hd;
            for (int h = 0; h < shape.numHeads(); h++) {
                double mean = 0;
                for (int t = 0; t < seqLen; t++) {
                    double norm = 0;
                    for (int d = 0; d < hd; d++) norm += (double) a.context[t * width + h * hd + d] * a.context[t * width + h * hd + d];
                    mean += Math.sqrt(norm);
                }
                mean /= seqLen;
                s.of(Axis.HEAD, l)[h] += mean * mean;
            }
            addMeanAbsColumns(hidden, a.attentionNorm, seqLen, dim);
        }
        if (shape.hasFfn()) {
            int ffn = shape.ffnDim();
            double[] neurons = new double[ffn];
            addMeanAbsColumns(neurons, a.hidden, seqLen, ffn);
            for (int i = 0; i < ffn; i++) s.of(Axis.FFN, l)[i] += neurons[i] * neurons[i];
            addMeanAbsColumns(hidden, a.ffnNorm, seqLen, dim);
        }
    }

    private static void addMeanAbsColumns(double[] into, float[] x, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) into[j] += Math.abs(x[r * cols + j]) / rows;
        }
    }

    /**
     * Layer l's output as block influence and angular distance see it: the residual stream, or after the
     * last layer with {@code normed}, the final RMSNorm of it (what transformers' {@code output_hidden_states}
     * returns last, and ShortGPT compares the last layer's input with).
     */
    private static float[] output(Model model, int l, float[] residual, int seqLen, boolean normed) {
        ModelConfig c = model.config();
        if (!normed || l != c.numLayers() - 1) return residual;
        float[] out = new float[seqLen * c.dim()];
        RmsNorm.forward(out, new float[seqLen], residual, model.weights().get(TensorRole.FINAL_NORM), seqLen, c.dim(), c.normEps());
        return out;
    }

    /**
     * ShortGPT, one layer of one sequence: 1 − cos(h_in, h_out) averaged over positions, for the layer and
     * each sub-layer (icip-cas/ShortGPT 9a2ee8d, {@code shortgpt/metrics.py} lines 4–22, summed over tokens
     * in {@code shortgpt.py} lines 37–47; a mean here, the same order). When {@code out} is not the
     * residual stream (the normed last output), a layer without an FFN ends its attention there.
     */
    private static void addBlockInfluence(ImportanceScores s, ModelConfig c, int l, float[] in, float[] middle, float[] out, int seqLen) {
        float[] end = c.layer(l).hasFfn() ? middle : out;
        s.of(Axis.LAYER)[l] += 1 - meanCosine(in, out, seqLen, c.dim());
        s.of(Axis.ATTENTION_LAYER)[l] += 1 - meanCosine(in, end, seqLen, c.dim());
        s.of(Axis.FFN_LAYER)[l] += 1 - meanCosine(end, out, seqLen, c.dim());
    }

    /**
     * Gromov et al. (arXiv 2403.17887, §3.2), one block of one sequence: arccos(cos(h_l, h_{l+n}))/π at the
     * last position ({@code lastToken}, their definition) or averaged over positions.
     */
    private static void addAngular(ImportanceScores s, ModelConfig c, int l, float[] in, float[] out, int seqLen, boolean lastToken) {
        s.of(Axis.LAYER)[l] += angularDistance(in, out, seqLen, c.dim(), lastToken);
    }

    /**
     * Gromov et al.'s distance between two states of one sequence, arccos(cos(in_t, out_t))/π at its last position
     * ({@code lastToken}) or averaged over its positions; a zero vector has cosine 1. The decoder-only criterion and an
     * encoder–decoder's stacks ({@code seq2seq.EncoderDecoderLayerScores}) share it.
     *
     * @param in  [rows, dim]
     * @param out [rows, dim]
     */
    public static double angularDistance(float[] in, float[] out, int rows, int dim, boolean lastToken) {
        double sum = 0;
        for (int t = lastToken ? rows - 1 : 0; t < rows; t++) sum += Math.acos(Math.max(-1, Math.min(1, cosine(in, out, t, dim)))) / Math.PI;
        return sum / (lastToken ? 1 : rows);
    }

    private static double meanCosine(float[] a, float[] b, int rows, int dim) {
        double sum = 0;
        for (int t = 0; t < rows; t++) sum += cosine(a, b, t, dim);
        return sum / rows;
    }

    private static double cosine(float[] a, float[] b, int row, int dim) {
        double dot = 0, na = 0, nb = 0;
        for (int j = 0; j < dim; j++) {
            double x = a[row * dim + j];
            double y = b[row * dim + j];
            dot += x * y;
            na += x * x;
            nb += y * y;
        }
        return na == 0 || nb == 0 ? 1 : dot / Math.sqrt(na * nb);
    }

    private static void scale(double[] x, double f) {
        for (int i = 0; i < x.length; i++) x[i] *= f;
    }

}
