package dev.shears.prune;

import dev.shears.model.Activations;
import dev.shears.model.Architecture;
import dev.shears.model.Axis;
import dev.shears.model.MaskSet;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.model.TensorRole;
import dev.shears.model.TinyModels;
import dev.shears.model.Transformer;
import dev.shears.progress.Progress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Block influence and angular distance in each variant against plain loops over the hidden states of
 * a whole-model forward pass (transformers' {@code output_hidden_states}: each layer's input, then the
 * last layer's output after the final norm, or the residual stream before it).
 */
class LayerCriteriaTest {
    private static final int SEQ_LEN = 6;

    private static ModelConfig fiveLayers() {
        return ModelConfig.uniform(Architecture.LLAMA, 16, 5, 4, 2, 4, 24, 30, 32, 1e-5f, 10000, true, false);
    }

    private static List<int[]> windows(ModelConfig c) {
        Random r = new Random(4);
        List<int[]> w = new ArrayList<>();
        for (int i = 0; i < 3; i++) w.add(r.ints(SEQ_LEN + 1, 0, c.vocabSize()).toArray());
        return w;
    }

    /** Per window: the states h_0 .. h_L (h_L normed or not) and each layer's middle (after attention). */
    private record States(List<float[][]> boundaries, List<float[][]> middles) {
    }

    private static States states(Model model, List<int[]> windows, CriterionOptions.FinalState finalState) {
        ModelConfig c = model.config();
        List<float[][]> boundaries = new ArrayList<>(), middles = new ArrayList<>();
        for (int[] w : windows) {
            Activations a = Activations.forTraining(c, 1, SEQ_LEN);
            Transformer.forward(model, Arrays.copyOf(w, SEQ_LEN), 1, SEQ_LEN, a, MaskSet.NONE);
            float[][] h = new float[c.numLayers() + 1][];
            float[][] m = new float[c.numLayers()][];
            for (int l = 0; l < c.numLayers(); l++) {
                h[l] = a.layer(l).input.clone();
                m[l] = a.layer(l).middle.clone();
            }
            h[c.numLayers()] = (finalState == CriterionOptions.FinalState.NORMED ? a.finalNorm : a.residual).clone();
            boundaries.add(h);
            middles.add(m);
        }
        return new States(boundaries, middles);
    }

    private static double cos(float[] a, float[] b, int t, int dim) {
        double dot = 0, na = 0, nb = 0;
        for (int j = 0; j < dim; j++) {
            dot += (double) a[t * dim + j] * b[t * dim + j];
            na += (double) a[t * dim + j] * a[t * dim + j];
            nb += (double) b[t * dim + j] * b[t * dim + j];
        }
        return dot / Math.sqrt(na * nb);
    }

    private static CriterionOptions options(CriterionOptions.AngularTokens tokens, CriterionOptions.FinalState state) {
        return new CriterionOptions(CriterionOptions.DEFAULT.taylor(), CriterionOptions.DEFAULT.taylorReduction(), tokens, state);
    }

    @ParameterizedTest
    @EnumSource(CriterionOptions.FinalState.class)
    void blockInfluenceIsOneMinusTheMeanCosineOfConsecutiveHiddenStates(CriterionOptions.FinalState state) {
        ModelConfig c = fiveLayers();
        Model model = TinyModels.random(c, 12);
        List<int[]> windows = windows(c);
        States s = states(model, windows, state);
        ImportanceScores scores = Importance.compute(model, Criterion.BLOCK_INFLUENCE, windows, 0, 1, options(CriterionOptions.AngularTokens.LAST, state),
                Progress.SILENT);
        int dim = c.dim();
        for (int l = 0; l < c.numLayers(); l++) {
            double layer = 0, attention = 0, ffn = 0;
            for (int w = 0; w < windows.size(); w++) {
                float[][] h = s.boundaries().get(w);
                float[] mid = s.middles().get(w)[l];
                for (int t = 0; t < SEQ_LEN; t++) {
                    layer += 1 - cos(h[l], h[l + 1], t, dim);
                    attention += 1 - cos(h[l], mid, t, dim);
                    ffn += 1 - cos(mid, h[l + 1], t, dim);
                }
            }
            int n = windows.size() * SEQ_LEN;
            assertEquals(layer / n, scores.of(Axis.LAYER)[l], 1e-6, state + " layer " + l);
            assertEquals(attention / n, scores.of(Axis.ATTENTION_LAYER)[l], 1e-6, state + " attention " + l);
            assertEquals(ffn / n, scores.of(Axis.FFN_LAYER)[l], 1e-6, state + " ffn " + l);
        }
        ImportanceScores activation = Importance.compute(model, Criterion.ACTIVATION, windows, 0, 1, options(CriterionOptions.AngularTokens.LAST, state),
                Progress.SILENT);
        assertArrayEquals(scores.of(Axis.LAYER), activation.of(Axis.LAYER), "an activation pass scores layers by the same block influence");
    }

    @Test
    void theNormedFinalStateTakesTheFinalNormWeightIntoAccount() {
        // the last layer does nothing: against the residual it has no influence; against the normed state
        // it has exactly 1 − cos(h, rmsnorm(h)·w), which is 0 only when the norm weight is uniform
        ModelConfig c = fiveLayers();
        Model model = TinyModels.random(c, 12);
        int last = c.numLayers() - 1;
        Arrays.fill(model.weights().get(TensorRole.OUTPUT, last), 0f);
        Arrays.fill(model.weights().get(TensorRole.DOWN, last), 0f);
        List<int[]> windows = windows(c);
        CriterionOptions residual = options(CriterionOptions.AngularTokens.LAST, CriterionOptions.FinalState.RESIDUAL);
        CriterionOptions normed = options(CriterionOptions.AngularTokens.LAST, CriterionOptions.FinalState.NORMED);
        assertEquals(0, Importance.compute(model, Criterion.BLOCK_INFLUENCE, windows, 0, 1, residual, Progress.SILENT).of(Axis.LAYER)[last], 1e-6);
        assertTrue(Importance.compute(model, Criterion.BLOCK_INFLUENCE, windows, 0, 1, normed, Progress.SILENT).of(Axis.LAYER)[last] > 1e-4);
        Arrays.fill(model.weights().get(TensorRole.FINAL_NORM), 2.5f);
        assertEquals(0, Importance.compute(model, Criterion.BLOCK_INFLUENCE, windows, 0, 1, normed, Progress.SILENT).of(Axis.LAYER)[last], 1e-6,
                "a uniform norm weight only rescales the state: the cosine stays 1");
    }

    @ParameterizedTest
    @EnumSource(CriterionOptions.AngularTokens.class)
    void angularDistanceIsTheArccosOfTheCosineOverTheBlock(CriterionOptions.AngularTokens tokens) {
        ModelConfig c = fiveLayers();
        Model model = TinyModels.random(c, 13);
        List<int[]> windows = windows(c);
        int span = 2, dim = c.dim();
        for (CriterionOptions.FinalState state : CriterionOptions.FinalState.values()) {
            States s = states(model, windows, state);
            ImportanceScores scores = Importance.compute(model, Criterion.ANGULAR, windows, 0, span, options(tokens, state), Progress.SILENT);
            for (int l = 0; l < c.numLayers(); l++) {
                if (l + span > c.numLayers()) {
                    assertEquals(Double.POSITIVE_INFINITY, scores.of(Axis.LAYER)[l], tokens + " " + state + ": no block of " + span + " starts at " + l);
                    continue;
                }
                double sum = 0;
                int count = 0;
                for (float[][] h : s.boundaries()) {
                    for (int t = tokens == CriterionOptions.AngularTokens.LAST ? SEQ_LEN - 1 : 0; t < SEQ_LEN; t++) {
                        sum += Math.acos(cos(h[l], h[l + span], t, dim)) / Math.PI;
                        count++;
                    }
                }
                assertEquals(sum / count, scores.of(Axis.LAYER)[l], 1e-6, tokens + " " + state + " block at " + l);
            }
        }
    }
}
