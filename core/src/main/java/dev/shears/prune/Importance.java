package dev.shears.prune;

import dev.shears.ShearsException;
import dev.shears.kernel.CrossEntropy;
import dev.shears.model.Activations;
import dev.shears.model.Axis;
import dev.shears.model.LayerShape;
import dev.shears.model.MaskSet;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.model.ModelWeights;
import dev.shears.model.Transformer;
import dev.shears.progress.Progress;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Computes {@link ImportanceScores} with one criterion. Data-driven criteria run the model on
 * calibration sequences (each {@code seqLen + 1} tokens: inputs and next-token targets).
 */
public final class Importance {
    private Importance() {
    }

    /**
     * @param calibration sequences of equal length (ignored by data-free criteria)
     * @param angularSpan n, the block length of the angular criterion
     */
    public static ImportanceScores compute(Model model, Criterion criterion, List<int[]> calibration, long seed, int angularSpan, Progress progress) {
        return switch (criterion) {
            case MAGNITUDE -> magnitude(model);
            case RANDOM -> random(model.config(), seed);
            case EVERY_K -> everyK(model.config());
            case ACTIVATION, TAYLOR, TAYLOR_SECOND_ORDER, BLOCK_INFLUENCE, ANGULAR -> calibrated(model, criterion, calibration, angularSpan, progress);
        };
    }

    private static ImportanceScores empty(ModelConfig c, Criterion criterion, int samples) {
        int n = c.numLayers();
        double[][] heads = new double[n][];
        double[][] ffn = new double[n][];
        for (int l = 0; l < n; l++) {
            heads[l] = new double[c.layer(l).numHeads()];
            ffn[l] = new double[c.layer(l).ffnDim()];
        }
        return new ImportanceScores(criterion, new double[c.dim()], heads, ffn, new double[n], new double[n], new double[n], samples);
    }

    /** L2 norm of the weights of each unit, read through the tensor-role table. */
    static ImportanceScores magnitude(Model model) {
        ModelConfig c = model.config();
        ImportanceScores s = empty(c, Criterion.MAGNITUDE, 0);
        model.weights().forEach((role, layer, values) -> {
            Axis[] axes = role.axes();
            int cols = axes.length == 2 ? role.shape(c, layer)[1] : values.length;
            int rows = axes.length == 2 ? role.shape(c, layer)[0] : 1;
            double total = 0;
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < cols; j++) {
                    double sq = (double) values[r * cols + j] * values[r * cols + j];
                    total += sq;
                    if (axes.length == 2) {
                        accumulate(s, c, layer, axes[0], r, sq);
                        accumulate(s, c, layer, axes[1], j, sq);
                    } else {
                        accumulate(s, c, layer, axes[0], j, sq);
                    }
                }
            }
            if (layer >= 0) {
                s.layers()[layer] += total;
                boolean attention = switch (role) {
                    case ATTENTION_NORM, QUERY, KEY, VALUE, QUERY_BIAS, KEY_BIAS, VALUE_BIAS, OUTPUT -> true;
                    default -> false;
                };
                (attention ? s.attentionLayers() : s.ffnLayers())[layer] += total;
            }
        });
        sqrtAll(s);
        return s;
    }

    private static void accumulate(ImportanceScores s, ModelConfig c, int layer, Axis axis, int index, double sq) {
        switch (axis) {
            case HIDDEN -> s.hidden()[index] += sq;
            case HEAD -> s.heads()[layer][index / c.headDim()] += sq;
            case FFN -> s.ffn()[layer][index] += sq;
            case KV_HEAD, VOCAB -> { }
        }
    }

    private static void sqrtAll(ImportanceScores s) {
        sqrt(s.hidden());
        sqrt(s.layers());
        sqrt(s.attentionLayers());
        sqrt(s.ffnLayers());
        for (double[] h : s.heads()) sqrt(h);
        for (double[] f : s.ffn()) sqrt(f);
    }

    private static void sqrt(double[] x) {
        for (int i = 0; i < x.length; i++) x[i] = Math.sqrt(x[i]);
    }

    static ImportanceScores random(ModelConfig c, long seed) {
        ImportanceScores s = empty(c, Criterion.RANDOM, 0);
        SplittableRandom r = new SplittableRandom(seed);
        fill(s.hidden(), r);
        fill(s.layers(), r);
        fill(s.attentionLayers(), r);
        fill(s.ffnLayers(), r);
        for (double[] h : s.heads()) fill(h, r);
        for (double[] f : s.ffn()) fill(f, r);
        return s;
    }

    private static void fill(double[] x, SplittableRandom r) {
        for (int i = 0; i < x.length; i++) x[i] = r.nextDouble();
    }

    /** Layers scored by position only; the plan builder picks every k-th layer or explicit indices. */
    static ImportanceScores everyK(ModelConfig c) {
        ImportanceScores s = empty(c, Criterion.EVERY_K, 0);
        for (int l = 0; l < c.numLayers(); l++) s.layers()[l] = l;
        return s;
    }

    private static ImportanceScores calibrated(Model model, Criterion criterion, List<int[]> calibration, int span, Progress progress) {
        if (calibration.isEmpty()) throw new ShearsException(criterion + " importance needs calibration data");
        ModelConfig c = model.config();
        int seqLen = calibration.getFirst().length - 1;
        if (criterion == Criterion.ANGULAR && (span < 1 || span >= c.numLayers() + 1)) {
            throw new ShearsException("angular distance needs a block of 1.." + c.numLayers() + " layers, got " + span);
        }
        ImportanceScores s = empty(c, criterion, calibration.size());
        Activations acts = Activations.forTraining(c, 1, seqLen);
        boolean taylor = criterion == Criterion.TAYLOR || criterion == Criterion.TAYLOR_SECOND_ORDER;
        boolean secondOrder = criterion == Criterion.TAYLOR_SECOND_ORDER;
        MaskSet masks = taylor ? MaskSet.ones(c) : MaskSet.NONE;
        MaskSet dMasks = taylor ? MaskSet.filled(c, 0f) : MaskSet.NONE;
        ModelWeights grads = taylor ? ModelWeights.zeros(c) : null;
        int[] input = new int[seqLen];
        int[] target = new int[seqLen];
        progress.start("calibrating (" + criterion.name().toLowerCase(java.util.Locale.ROOT) + ")", calibration.size(), "seq");
        for (int[] sequence : calibration) {
            if (sequence.length != seqLen + 1) throw new ShearsException("calibration sequences must all have " + (seqLen + 1) + " tokens");
            System.arraycopy(sequence, 0, input, 0, seqLen);
            System.arraycopy(sequence, 1, target, 0, seqLen);
            float[] logits = Transformer.forward(model, input, 1, seqLen, acts, masks);
            switch (criterion) {
                case TAYLOR, TAYLOR_SECOND_ORDER -> {
                    CrossEntropy.forwardBackward(logits, target, seqLen, c.vocabSize(), acts.gradients().logits, 1f);
                    MaskSet batch = MaskSet.filled(c, 0f);
                    Transformer.backward(model, input, acts, masks, grads, batch);
                    addAbsolute(s, c, batch, secondOrder);
                }
                case ACTIVATION -> addActivations(s, c, acts, seqLen);
                case BLOCK_INFLUENCE -> addBlockInfluence(s, c, acts, seqLen);
                case ANGULAR -> addAngular(s, c, acts, seqLen, span);
                default -> throw new IllegalStateException(criterion.name());
            }
            progress.advance(1);
        }
        progress.finish();
        double n = calibration.size();
        switch (criterion) {
            case ACTIVATION -> sqrtAll(s);
            case BLOCK_INFLUENCE, ANGULAR -> {
                scale(s.layers(), 1 / n);
                scale(s.attentionLayers(), 1 / n);
                scale(s.ffnLayers(), 1 / n);
                if (criterion == Criterion.ANGULAR) {
                    for (int l = c.numLayers() - span + 1; l < c.numLayers(); l++) s.layers()[l] = Double.POSITIVE_INFINITY;
                }
            }
            default -> { }
        }
        return s;
    }

    /**
     * Per sequence, the estimated loss change of removing each unit (its gate going from 1 to 0):
     * first order |−g|; with {@code secondOrder}, |−g + ½·g²|, the diagonal Hessian approximated by
     * the Fisher g² (LLM-Pruner's second-order term).
     */
    private static void addAbsolute(ImportanceScores s, ModelConfig c, MaskSet d, boolean secondOrder) {
        addAbs(s.hidden(), d.hidden(), secondOrder);
        addAbs(s.attentionLayers(), d.attentionLayers(), secondOrder);
        addAbs(s.ffnLayers(), d.ffnLayers(), secondOrder);
        for (int l = 0; l < c.numLayers(); l++) {
            addAbs(s.heads()[l], d.heads(l), secondOrder);
            addAbs(s.ffn()[l], d.ffn(l), secondOrder);
            s.layers()[l] += change(d.attentionLayers()[l], secondOrder) + change(d.ffnLayers()[l], secondOrder);
        }
    }

    private static void addAbs(double[] into, float[] g, boolean secondOrder) {
        for (int i = 0; i < into.length; i++) into[i] += change(g[i], secondOrder);
    }

    private static double change(double g, boolean secondOrder) {
        return secondOrder ? Math.abs(-g + 0.5 * g * g) : Math.abs(g);
    }

    /** Minitron: per sequence the mean over positions of |activation|, squared and summed (L2 over the batch after sqrt). */
    private static void addActivations(ImportanceScores s, ModelConfig c, Activations acts, int seqLen) {
        int dim = c.dim();
        int hd = c.headDim();
        double[] hidden = new double[dim];
        for (int l = 0; l < c.numLayers(); l++) {
            LayerShape shape = c.layer(l);
            Activations.Layer a = acts.layer(l);
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
                    s.heads()[l][h] += mean * mean;
                }
                addMeanAbsColumns(hidden, a.attentionNorm, seqLen, dim);
            }
            if (shape.hasFfn()) {
                int ffn = shape.ffnDim();
                double[] neurons = new double[ffn];
                addMeanAbsColumns(neurons, a.hidden, seqLen, ffn);
                for (int i = 0; i < ffn; i++) s.ffn()[l][i] += neurons[i] * neurons[i];
                addMeanAbsColumns(hidden, a.ffnNorm, seqLen, dim);
            }
        }
        for (int j = 0; j < dim; j++) s.hidden()[j] += hidden[j] * hidden[j];
        addBlockInfluence(s, c, acts, seqLen);
    }

    private static void addMeanAbsColumns(double[] into, float[] x, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) into[j] += Math.abs(x[r * cols + j]) / rows;
        }
    }

    /** ShortGPT: 1 − cos(h_in, h_out) averaged over positions, for each layer and sub-layer. */
    private static void addBlockInfluence(ImportanceScores s, ModelConfig c, Activations acts, int seqLen) {
        for (int l = 0; l < c.numLayers(); l++) {
            float[] in = acts.layer(l).input;
            float[] middle = acts.layer(l).middle;
            float[] out = l + 1 < c.numLayers() ? acts.layer(l + 1).input : acts.residual;
            s.layers()[l] += 1 - meanCosine(in, out, seqLen, c.dim());
            s.attentionLayers()[l] += 1 - meanCosine(in, middle, seqLen, c.dim());
            s.ffnLayers()[l] += 1 - meanCosine(middle, out, seqLen, c.dim());
        }
    }

    /** Gromov et al.: arccos(cos(h_l, h_{l+n}))/π averaged over positions, for each start l. */
    private static void addAngular(ImportanceScores s, ModelConfig c, Activations acts, int seqLen, int span) {
        for (int l = 0; l + span <= c.numLayers(); l++) {
            float[] in = acts.layer(l).input;
            float[] out = l + span < c.numLayers() ? acts.layer(l + span).input : acts.residual;
            double sum = 0;
            for (int t = 0; t < seqLen; t++) sum += Math.acos(Math.max(-1, Math.min(1, cosine(in, out, t, c.dim())))) / Math.PI;
            s.layers()[l] += sum / seqLen;
        }
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
