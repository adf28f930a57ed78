package dev.shears.prune;

import dev.shears.kernel.CrossEntropy;
import dev.shears.model.Activations;
import dev.shears.model.Architecture;
import dev.shears.model.Axis;
import dev.shears.model.LayerShape;
import dev.shears.model.MaskSet;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.model.ModelWeights;
import dev.shears.model.TensorRole;
import dev.shears.model.TinyModels;
import dev.shears.model.Transformer;
import dev.shears.progress.Progress;
import dev.shears.tensor.DenseTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every Taylor variant against scores computed here from scratch: the gradients of each calibration
 * sequence's loss by finite differences of the whole model's forward (the bar every backward-dependent
 * quantity meets) and, with a tight tolerance, by the whole model's backward; then LLM-Pruner's
 * formulas as plain loops over each unit's group written out by hand (q/k/v rows and o columns of a
 * head, gate/up rows and the down column of a neuron, every tensor's column or row of a hidden
 * channel). The pass under test streams layer by layer and keeps one layer's gradients.
 */
class TaylorVariantsTest {
    private static final int SEQUENCES = 3;
    private static final int SEQ_LEN = 5;

    /** GQA (2 query heads per KV head) with a tied table; biases, an untied head and layers without attention or FFN. */
    static Stream<Arguments> models() {
        return Stream.of(Arguments.of("gqa tied", ModelConfig.uniform(Architecture.LLAMA, 8, 2, 4, 2, 2, 6, 11, 16, 1e-5f, 10000, true, false)),
                Arguments.of("non-uniform bias untied", TinyModels.nonUniformWithBias()));
    }

    // ------------------------------------------------------------------ hand-computed

    /** One down projection [hidden 2, ffn 2], its gradient and Fisher by hand: each variant's channel scores. */
    @Test
    void eachVariantScoresAHandComputedDownProjection() {
        ModelConfig c = new ModelConfig(Architecture.LLAMA, 2, 2, 3, List.of(new LayerShape(1, 1, 2)), 1e-5f, 1e4,
                dev.shears.model.RopeScaling.NONE, 8, true, false, 1, 2);
        DenseTensor w = new DenseTensor(new float[] {1, 2, 3, 4}, 2, 2);
        float[] g = {0.5f, -1f, 0.25f, 0.5f};
        float[] f = {1f, 1f, 2f, 0.5f};
        // w·g = [[0.5, -2], [0.75, 2]];  w·F·w = [[1, 4], [18, 8]];  w·g − ½w·F·w = [[0, -4], [-8.25, -2]]
        // down's rows are hidden channels, its columns FFN neurons
        record Expected(TaylorVariant variant, double[] ffn, double[] hidden) {
        }
        for (Expected e : List.of(
                new Expected(TaylorVariant.VECTORIZE, new double[] {1.25, 0}, new double[] {1.5, 2.75}),
                new Expected(TaylorVariant.PARAM_FIRST, new double[] {1.25, 4}, new double[] {2.5, 2.75}),
                new Expected(TaylorVariant.PARAM_SECOND, new double[] {19, 12}, new double[] {5, 26}),
                new Expected(TaylorVariant.PARAM_MIX, new double[] {8.25, 6}, new double[] {4, 10.25}))) {
            WeightSalience s = new WeightSalience(c, e.variant(), GroupReduction.SUM);
            s.add(TensorRole.DOWN, 0, w, g, f);
            ImportanceScores scores = ImportanceScores.zeros(c, Criterion.TAYLOR, 1);
            s.addTo(scores);
            assertArrays(e.variant() + " neurons", e.ffn(), scores.of(Axis.FFN, 0), 1e-12);
            assertArrays(e.variant() + " hidden channels", e.hidden(), scores.of(Axis.HIDDEN), 1e-12);
        }
    }

    /** Two tensors in a neuron's group (down's columns and gate's rows), combined by each reduction. */
    @Test
    void groupReductionsCombineTheTensorsOfAGroup() {
        ModelConfig c = new ModelConfig(Architecture.LLAMA, 2, 2, 3, List.of(new LayerShape(1, 1, 2)), 1e-5f, 1e4,
                dev.shears.model.RopeScaling.NONE, 8, true, false, 1, 2);
        DenseTensor down = new DenseTensor(new float[] {1, 2, 3, 4}, 2, 2);
        float[] gDown = {0.5f, -1f, 0.25f, 0.5f};            // param-first neurons: [1.25, 4]
        DenseTensor gate = new DenseTensor(new float[] {2, 0, -1, 1}, 2, 2);
        float[] gGate = {1f, 3f, 2f, 2f};                    // w·g = [[2, 0], [-2, 2]]: param-first neurons (rows) [2, 4]
        Map<GroupReduction, double[]> expected = Map.of(GroupReduction.SUM, new double[] {3.25, 8}, GroupReduction.MEAN, new double[] {1.625, 4},
                GroupReduction.MAX, new double[] {2, 4}, GroupReduction.PROD, new double[] {2.5, 16});
        for (GroupReduction r : GroupReduction.values()) {
            WeightSalience s = new WeightSalience(c, TaylorVariant.PARAM_FIRST, r);
            s.add(TensorRole.DOWN, 0, down, gDown, null);
            s.add(TensorRole.GATE, 0, gate, gGate, null);
            ImportanceScores scores = ImportanceScores.zeros(c, Criterion.TAYLOR, 1);
            s.addTo(scores);
            assertArrays(r + " neurons", expected.get(r), scores.of(Axis.FFN, 0), 1e-12);
        }
    }

    // ------------------------------------------------------------------ against finite differences and the whole-model backward

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void everyVariantMatchesItsDefinitionOnFiniteDifferenceGradients(String name, ModelConfig c) {
        Model model = TinyModels.random(c, 3);
        List<int[]> windows = windows(c);
        Gradients fd = finiteDifferences(model, windows);
        for (TaylorVariant v : TaylorVariant.values()) check(name + " FD", model, windows, fd, v, GroupReduction.SUM, 3e-2, 2e-4);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void everyVariantAndReductionMatchesItsDefinitionOnTheWholeModelBackward(String name, ModelConfig c) {
        Model model = TinyModels.random(c, 3);
        List<int[]> windows = windows(c);
        Gradients exact = backward(model, windows);
        for (TaylorVariant v : TaylorVariant.values()) {
            for (GroupReduction r : v.family == TaylorVariant.Family.WEIGHT ? List.of(GroupReduction.values()) : List.of(GroupReduction.SUM)) {
                check(name + " backward", model, windows, exact, v, r, 1e-4, 1e-9);
            }
        }
    }

    private static void check(String name, Model model, List<int[]> windows, Gradients grads, TaylorVariant v, GroupReduction r, double rtol, double atol) {
        ModelConfig c = model.config();
        CriterionOptions options = new CriterionOptions(v, r, CriterionOptions.AngularTokens.LAST, CriterionOptions.FinalState.NORMED);
        ImportanceScores actual = Importance.compute(model, Criterion.TAYLOR, windows, 0, 1, options, Progress.SILENT);
        ImportanceScores expected = expected(model, grads, v, r);
        String label = name + " " + v.key() + "/" + r.key();
        for (Axis a : ImportanceScores.AXES) {
            for (int row = 0; row < a.rows(c); row++) {
                double[] e = expected.of(a, row), x = actual.of(a, row);
                double scale = 0;
                for (double y : e) scale = Math.max(scale, Math.abs(y));
                for (int u = 0; u < e.length; u++) {
                    if (!(Math.abs(e[u] - x[u]) <= atol + rtol * Math.max(scale * 1e-2, Math.max(Math.abs(e[u]), Math.abs(x[u]))))) {
                        fail(String.format("%s %s[%d][%d]: expected %.8g, got %.8g", label, a.key, row, u, e[u], x[u]));
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------ the definitions, written out

    /** Per sequence, the gradient of its mean next-token loss: every weight tensor and every gate. */
    private record Gradients(List<Map<String, double[]>> weights, List<Map<String, double[]>> gates) {
    }

    private static String key(TensorRole role, int layer) {
        return role + "@" + layer;
    }

    private static String key(Axis axis, int row) {
        return axis + "@" + row;
    }

    private static ImportanceScores expected(Model model, Gradients grads, TaylorVariant v, GroupReduction r) {
        ModelConfig c = model.config();
        ImportanceScores s = ImportanceScores.zeros(c, Criterion.TAYLOR, SEQUENCES);
        // gates: formula with w = 1; per sequence (F = g_j²) or on the batch's ḡ and F
        List<String> gateRows = new ArrayList<>(List.of(key(Axis.HIDDEN, 0), key(Axis.ATTENTION_LAYER, 0), key(Axis.FFN_LAYER, 0)));
        for (int l = 0; l < c.numLayers(); l++) {
            gateRows.add(key(Axis.HEAD, l));
            gateRows.add(key(Axis.FFN, l));
        }
        Map<String, double[]> gateScores = new HashMap<>();
        for (String k : gateRows) {
            int units = grads.gates().getFirst().get(k).length;
            double[] score = new double[units];
            for (int u = 0; u < units; u++) {
                if (v.perSequence) {
                    for (Map<String, double[]> g : grads.gates()) score[u] += Math.abs(v.salience(1, g.get(k)[u], g.get(k)[u] * g.get(k)[u]));
                } else {
                    double mean = 0, fisher = 0;
                    for (Map<String, double[]> g : grads.gates()) {
                        mean += g.get(k)[u] / SEQUENCES;
                        fisher += g.get(k)[u] * g.get(k)[u] / SEQUENCES;
                    }
                    score[u] = Math.abs(v.salience(1, mean, fisher));
                }
            }
            gateScores.put(k, score);
        }
        for (Axis a : List.of(Axis.HIDDEN, Axis.ATTENTION_LAYER, Axis.FFN_LAYER)) System.arraycopy(gateScores.get(key(a, 0)), 0, s.of(a), 0, s.of(a).length);
        for (int l = 0; l < c.numLayers(); l++) {
            s.of(Axis.LAYER)[l] = s.of(Axis.ATTENTION_LAYER)[l] + s.of(Axis.FFN_LAYER)[l];
            System.arraycopy(gateScores.get(key(Axis.HEAD, l)), 0, s.of(Axis.HEAD, l), 0, s.of(Axis.HEAD, l).length);
            System.arraycopy(gateScores.get(key(Axis.FFN, l)), 0, s.of(Axis.FFN, l), 0, s.of(Axis.FFN, l).length);
        }
        if (v.family == TaylorVariant.Family.GATE) return s;

        // weights: ḡ and F per element, then salience, per channel, over the group, over a head's channels
        Map<String, double[]> sal = new HashMap<>();
        model.weights().forEachTensor((role, layer, t) -> {
            float[] w = t.toArray();
            double[] out = new double[w.length];
            String k = key(role, layer);
            for (int i = 0; i < w.length; i++) {
                double mean = 0, fisher = 0;
                for (Map<String, double[]> g : grads.weights()) {
                    mean += g.get(k)[i] / SEQUENCES;
                    fisher += g.get(k)[i] * g.get(k)[i] / SEQUENCES;
                }
                out[i] = v.salience(w[i], mean, fisher);
            }
            sal.put(k, out);
        });
        boolean vectorize = v == TaylorVariant.VECTORIZE;
        int dim = c.dim(), hd = c.headDim();
        for (int l = 0; l < c.numLayers(); l++) {
            LayerShape shape = c.layer(l);
            double[] neurons = s.of(Axis.FFN, l);
            for (int i = 0; i < shape.ffnDim(); i++) {
                List<Double> deps = List.of(row(sal.get(key(TensorRole.GATE, l)), i, dim, vectorize), row(sal.get(key(TensorRole.UP, l)), i, dim, vectorize),
                        column(sal.get(key(TensorRole.DOWN, l)), i, shape.ffnDim(), vectorize));
                neurons[i] = reduce(r, deps);
            }
            double[] heads = s.of(Axis.HEAD, l);
            int qWidth = shape.numHeads() * hd;
            for (int h = 0; h < shape.numHeads(); h++) {
                heads[h] = 0;
                int kv = h / shape.groupSize();
                for (int d = 0; d < hd; d++) {
                    List<Double> deps = List.of(row(sal.get(key(TensorRole.QUERY, l)), h * hd + d, dim, vectorize),
                            column(sal.get(key(TensorRole.OUTPUT, l)), h * hd + d, qWidth, vectorize),
                            row(sal.get(key(TensorRole.KEY, l)), kv * hd + d, dim, vectorize),
                            row(sal.get(key(TensorRole.VALUE, l)), kv * hd + d, dim, vectorize));
                    heads[h] += reduce(r, deps);
                }
            }
        }
        double[] hidden = s.of(Axis.HIDDEN);
        for (int j = 0; j < dim; j++) {
            List<Double> deps = new ArrayList<>();
            deps.add(column(sal.get(key(TensorRole.EMBEDDING, -1)), j, dim, vectorize));
            for (int l = 0; l < c.numLayers(); l++) {
                LayerShape shape = c.layer(l);
                if (shape.hasAttention()) {
                    deps.add(Math.abs(sal.get(key(TensorRole.ATTENTION_NORM, l))[j]));
                    for (TensorRole in : List.of(TensorRole.QUERY, TensorRole.KEY, TensorRole.VALUE)) deps.add(column(sal.get(key(in, l)), j, dim, vectorize));
                    deps.add(row(sal.get(key(TensorRole.OUTPUT, l)), j, shape.numHeads() * hd, vectorize));
                }
                if (shape.hasFfn()) {
                    deps.add(Math.abs(sal.get(key(TensorRole.FFN_NORM, l))[j]));
                    for (TensorRole in : List.of(TensorRole.GATE, TensorRole.UP)) deps.add(column(sal.get(key(in, l)), j, dim, vectorize));
                    deps.add(row(sal.get(key(TensorRole.DOWN, l)), j, shape.ffnDim(), vectorize));
                }
            }
            deps.add(Math.abs(sal.get(key(TensorRole.FINAL_NORM, -1))[j]));
            if (!c.tiedEmbeddings()) deps.add(column(sal.get(key(TensorRole.LM_HEAD, -1)), j, dim, vectorize));
            hidden[j] = reduce(r, deps);
        }
        return s;
    }

    private static double row(double[] s, int i, int cols, boolean vectorize) {
        double sum = 0;
        for (int k = 0; k < cols; k++) sum += vectorize ? s[i * cols + k] : Math.abs(s[i * cols + k]);
        return Math.abs(sum);
    }

    private static double column(double[] s, int j, int cols, boolean vectorize) {
        double sum = 0;
        for (int k = 0; k < s.length / cols; k++) sum += vectorize ? s[k * cols + j] : Math.abs(s[k * cols + j]);
        return Math.abs(sum);
    }

    private static double reduce(GroupReduction r, List<Double> deps) {
        double acc = switch (r) {
            case SUM, MEAN -> 0;
            case MAX -> Double.NEGATIVE_INFINITY;
            case PROD -> 1;
        };
        for (double d : deps) {
            acc = switch (r) {
                case SUM, MEAN -> acc + d;
                case MAX -> Math.max(acc, d);
                case PROD -> acc * d;
            };
        }
        return r == GroupReduction.MEAN ? acc / deps.size() : acc;
    }

    // ------------------------------------------------------------------ gradients two ways

    private static List<int[]> windows(ModelConfig c) {
        Random random = new Random(17);
        List<int[]> windows = new ArrayList<>();
        for (int i = 0; i < SEQUENCES; i++) windows.add(random.ints(SEQ_LEN + 1, 0, c.vocabSize()).toArray());
        return windows;
    }

    private static double loss(Model model, int[] window, MaskSet masks, Activations acts) {
        int[] tokens = java.util.Arrays.copyOf(window, SEQ_LEN);
        int[] targets = java.util.Arrays.copyOfRange(window, 1, SEQ_LEN + 1);
        float[] logits = Transformer.forward(model, tokens, 1, SEQ_LEN, acts, masks);
        return CrossEntropy.forwardBackward(logits, targets, SEQ_LEN, model.config().vocabSize(), new float[0], 1f);
    }

    /** Central differences of each sequence's loss, every weight and every gate, step 1e-2 as ModelGradientTest. */
    private static Gradients finiteDifferences(Model model, List<int[]> windows) {
        ModelConfig c = model.config();
        Activations acts = Activations.forInference(c, 1, SEQ_LEN);
        MaskSet gates = MaskSet.ones(c);
        List<Map<String, double[]>> weights = new ArrayList<>(), gateGrads = new ArrayList<>();
        for (int[] window : windows) {
            Map<String, double[]> w = new HashMap<>();
            model.weights().forEach((role, layer, values) -> w.put(key(role, layer), central(values, () -> loss(model, window, MaskSet.NONE, acts))));
            weights.add(w);
            Map<String, double[]> g = new HashMap<>();
            for (Axis a : List.of(Axis.HIDDEN, Axis.ATTENTION_LAYER, Axis.FFN_LAYER)) {
                g.put(key(a, 0), central(gates.get(a), () -> loss(model, window, gates, acts)));
            }
            for (int l = 0; l < c.numLayers(); l++) {
                for (Axis a : List.of(Axis.HEAD, Axis.FFN)) g.put(key(a, l), central(gates.get(a, l), () -> loss(model, window, gates, acts)));
            }
            gateGrads.add(g);
        }
        return new Gradients(weights, gateGrads);
    }

    private static double[] central(float[] x, java.util.function.DoubleSupplier loss) {
        double[] g = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            float saved = x[i];
            x[i] = saved + 1e-2f;
            double plus = loss.getAsDouble();
            x[i] = saved - 1e-2f;
            double minus = loss.getAsDouble();
            x[i] = saved;
            g[i] = (plus - minus) / ((double) (saved + 1e-2f) - (double) (saved - 1e-2f));
        }
        return g;
    }

    /** The whole model's backward per sequence (ModelGradientTest checks it against finite differences). */
    private static Gradients backward(Model model, List<int[]> windows) {
        ModelConfig c = model.config();
        List<Map<String, double[]>> weights = new ArrayList<>(), gateGrads = new ArrayList<>();
        for (int[] window : windows) {
            Activations acts = Activations.forTraining(c, 1, SEQ_LEN);
            MaskSet masks = MaskSet.ones(c);
            int[] tokens = java.util.Arrays.copyOf(window, SEQ_LEN);
            float[] logits = Transformer.forward(model, tokens, 1, SEQ_LEN, acts, masks);
            CrossEntropy.forwardBackward(logits, java.util.Arrays.copyOfRange(window, 1, SEQ_LEN + 1), SEQ_LEN, c.vocabSize(), acts.gradients().logits, 1f);
            ModelWeights grads = ModelWeights.zeros(c);
            MaskSet dMasks = MaskSet.filled(c, 0f);
            Transformer.backward(model, tokens, acts, masks, grads, dMasks);
            Map<String, double[]> w = new HashMap<>();
            grads.forEach((role, layer, values) -> w.put(key(role, layer), widen(values)));
            weights.add(w);
            Map<String, double[]> g = new HashMap<>();
            for (Axis a : List.of(Axis.HIDDEN, Axis.ATTENTION_LAYER, Axis.FFN_LAYER)) g.put(key(a, 0), widen(dMasks.get(a)));
            for (int l = 0; l < c.numLayers(); l++) for (Axis a : List.of(Axis.HEAD, Axis.FFN)) g.put(key(a, l), widen(dMasks.get(a, l)));
            gateGrads.add(g);
        }
        return new Gradients(weights, gateGrads);
    }

    private static double[] widen(float[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i];
        return y;
    }

    private static void assertArrays(String label, double[] expected, double[] actual, double tol) {
        assertEquals(expected.length, actual.length, label);
        for (int i = 0; i < expected.length; i++) assertEquals(expected[i], actual[i], tol, label + "[" + i + "]");
    }
}
