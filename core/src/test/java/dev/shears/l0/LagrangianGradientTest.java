package dev.shears.l0;

import dev.shears.kernel.CrossEntropy;
import dev.shears.model.Activations;
import dev.shears.model.Axis;
import dev.shears.model.MaskSet;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.model.ModelWeights;
import dev.shears.model.TinyModels;
import dev.shears.model.Transformer;
import dev.shears.prune.PruneTarget;
import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Finite-difference checks, in double, of the gradients the shear loop uses: of the Lagrangian with
 * respect to λ and to logAlpha (through the expected sparsity), and of LM loss + Lagrangian with
 * respect to logAlpha through the sampled hard-concrete gates and the model's gate gradients.
 */
class LagrangianGradientTest {
    /**
     * A GQA model (4 heads over 2 KV heads, 3 layers) and a target that prunes every gate axis: 2 of 3 layers,
     * and of those one loses its attention and one its FFN.
     */
    static final ModelConfig CONFIG = TinyModels.gqa();
    static final PruneTarget TARGET = PruneTarget.uniform(2, 16, 1, 1, 20).droppingSubLayers(1, 1);

    static L0Gates gates(long seed) {
        return gates(seed, LayerGates.LAYER);
    }

    static L0Gates gates(long seed, LayerGates layerGates) {
        L0Gates gates = new L0Gates(CONFIG, TARGET, layerGates);
        Random r = new Random(seed);
        for (int i = 0; i < gates.size(); i++) gates.logAlpha()[i] = r.nextGaussian() * 1.5;
        return gates;
    }

    static Lagrangian lagrangian(L0Gates gates, long seed) {
        Lagrangian lagrangian = new Lagrangian(gates, 0.2, 100);
        Random r = new Random(seed);
        for (int i = 0; i < lagrangian.lambda().length; i++) lagrangian.lambda()[i] = r.nextGaussian() * 3;
        return lagrangian;
    }

    @Test
    void everyAxisIsActive() {
        for (LayerGates mode : LayerGates.values()) {
            L0Gates g = gates(1, mode);
            for (Axis a : Axis.gatedAxes()) {
                // one gate per layer: the layer gates carry the layer count; sub-layer gates only the extra removals
                boolean expected = mode == LayerGates.LAYER || a != Axis.LAYER;
                assertEquals(expected, g.isActive(a), mode + " " + a.key);
            }
        }
    }

    /**
     * The penalty is taken row by row and then averaged (LLM-Shearing {@code _lag_loss(...).mean()} over the
     * per-layer expected sparsities), computed here independently from the keep probabilities.
     */
    @Test
    void eachAxisTermIsTheMeanOverItsRowsOfTheRowPenalty() {
        L0Gates gates = gates(7);
        Lagrangian lagrangian = lagrangian(gates, 8);
        long step = 100; // past the ramp: the final targets
        double[] keep = gates.keepProbabilities();
        Lagrangian.Terms terms = lagrangian.evaluate(keep, step);
        int i = Lagrangian.slot(Axis.FFN);
        double expected = 0;
        for (int l = 0; l < CONFIG.numLayers(); l++) {
            int units = CONFIG.layer(l).ffnDim();
            double kept = 0;
            for (int u = 0; u < units; u++) kept += keep[gates.offset(Axis.FFN, l) + u];
            double gap = (1 - kept / units) - (1 - 20.0 / units);
            expected += (lagrangian.lambda()[2 * i] * gap + lagrangian.lambda()[2 * i + 1] * gap * gap) / CONFIG.numLayers();
        }
        assertEquals(expected, terms.value()[i], 1e-12);
        // the layer gates: one row of 3, target 2 kept
        int j = Lagrangian.slot(Axis.LAYER);
        double kept = 0;
        for (int l = 0; l < 3; l++) kept += keep[gates.offset(Axis.LAYER, 0) + l];
        double gap = (1 - kept / 3) - (1 - 2.0 / 3);
        assertEquals(lagrangian.lambda()[2 * j] * gap + lagrangian.lambda()[2 * j + 1] * gap * gap, terms.value()[j], 1e-12);
        // the quadratic term of the mean is not the mean of the quadratic terms: the two forms differ
        double meanGap = 0;
        for (int l = 0; l < 3; l++) {
            double k = 0;
            for (int u = 0; u < CONFIG.layer(l).ffnDim(); u++) k += keep[gates.offset(Axis.FFN, l) + u];
            meanGap += ((1 - k / CONFIG.layer(l).ffnDim()) - (1 - 20.0 / CONFIG.layer(l).ffnDim())) / 3;
        }
        double ofTheMean = lagrangian.lambda()[2 * i] * meanGap + lagrangian.lambda()[2 * i + 1] * meanGap * meanGap;
        assertTrue(Math.abs(ofTheMean - terms.value()[i]) > 1e-6, "per layer, not of the layer mean: " + ofTheMean + " vs " + terms.value()[i]);
    }

    @Test
    void lagrangianGradientsWithRespectToLambdaAndLogAlpha() {
        for (LayerGates mode : LayerGates.values()) {
            L0Gates gates = gates(2, mode);
            Lagrangian lagrangian = lagrangian(gates, 3);
            for (long step : new long[] {13, 60}) { // during the target's ramp and after it
                Supplier<Double> loss = () -> lagrangian.evaluate(gates.keepProbabilities(), step).total();
                double[] dLogAlpha = new double[gates.size()];
                double[] dLambda = new double[lagrangian.lambda().length];
                double[] keep = gates.keepProbabilities();
                lagrangian.backward(lagrangian.evaluate(keep, step), keep, gates.keepProbabilityGradients(), dLogAlpha, dLambda);
                check(mode + " dLambda", lagrangian.lambda(), dLambda, loss, allIndices(dLambda.length), 1e-4, 1e-10, 1e-6);
                check(mode + " dLogAlpha (Lagrangian)", gates.logAlpha(), dLogAlpha, loss, allIndices(gates.size()), 1e-5, 1e-10, 1e-5);
            }
        }
    }

    @Test
    void totalLossGradientWithRespectToLogAlphaThroughTheSampledGates() {
        for (LayerGates mode : LayerGates.values()) totalLossGradient(mode);
    }

    private void totalLossGradient(LayerGates mode) {
        Model model = TinyModels.random(CONFIG, 21);
        L0Gates gates = gates(4, mode);
        Lagrangian lagrangian = lagrangian(gates, 5);
        Random r = new Random(6);
        double[] u = new double[gates.size()];
        for (int i = 0; i < u.length; i++) u[i] = r.nextDouble();
        int batch = 2, seqLen = 5, rows = batch * seqLen;
        int[] tokens = new int[rows], targets = new int[rows];
        for (int i = 0; i < rows; i++) {
            tokens[i] = r.nextInt(CONFIG.vocabSize());
            targets[i] = r.nextInt(CONFIG.vocabSize());
        }
        Activations acts = Activations.forTraining(CONFIG, batch, seqLen);
        long step = 7;
        Supplier<Double> loss = () -> {
            MaskSet masks = gates.sampleWith(u);
            float[] logits = Transformer.forward(model, tokens, batch, seqLen, acts, masks);
            double lm = CrossEntropy.forwardBackward(logits, targets, rows, CONFIG.vocabSize(), new float[0], 1f);
            return lm + lagrangian.evaluate(gates.keepProbabilities(), step).total();
        };

        MaskSet masks = gates.sampleWith(u);
        float[] logits = Transformer.forward(model, tokens, batch, seqLen, acts, masks);
        CrossEntropy.forwardBackward(logits, targets, rows, CONFIG.vocabSize(), acts.gradients().logits, 1f);
        MaskSet dMasks = MaskSet.filled(CONFIG, 0f);
        Transformer.backward(model, tokens, acts, masks, ModelWeights.zeros(CONFIG), dMasks);
        double[] dLogAlpha = new double[gates.size()];
        gates.backward(dMasks, dLogAlpha);
        double[] keep = gates.keepProbabilities();
        lagrangian.backward(lagrangian.evaluate(keep, step), keep, gates.keepProbabilityGradients(), dLogAlpha, new double[lagrangian.lambda().length]);

        // coordinates away from the clamp's kinks (a finite difference across one is not a derivative)
        int[] smooth = java.util.stream.IntStream.range(0, gates.size()).filter(i -> {
            double v = Math.min(1 - 1e-6, Math.max(1e-6, u[i]));
            double s = 1 / (1 + Math.exp(-(Math.log(v) - Math.log(1 - v) + gates.logAlpha()[i]) / HardConcrete.BETA));
            double stretched = s * (HardConcrete.RIGHT - HardConcrete.LEFT) + HardConcrete.LEFT;
            return Math.abs(stretched) > 0.05 && Math.abs(stretched - 1) > 0.05;
        }).toArray();
        int interior = 0;
        for (int i : smooth) {
            double v = Math.min(1 - 1e-6, Math.max(1e-6, u[i]));
            double s = 1 / (1 + Math.exp(-(Math.log(v) - Math.log(1 - v) + gates.logAlpha()[i]) / HardConcrete.BETA));
            double stretched = s * 1.2 - 0.1;
            if (stretched > 0 && stretched < 1) interior++;
        }
        assertTrue(interior > 20, "enough gates inside (0, 1) to exercise the chain rule: " + interior);
        check(mode + " dLogAlpha (LM + Lagrangian)", gates.logAlpha(), dLogAlpha, loss, smooth, 1e-2, 1e-4, 3e-2);
    }

    static int[] allIndices(int n) {
        return java.util.stream.IntStream.range(0, n).toArray();
    }

    /** Central differences in double: {@code |num − ana| ≤ atol + rtol·max(|num|, |ana|)}. */
    static void check(String label, double[] param, double[] analytic, Supplier<Double> loss, int[] indices, double eps, double atol, double rtol) {
        for (int i : indices) {
            double saved = param[i];
            param[i] = saved + eps;
            double plus = loss.get();
            param[i] = saved - eps;
            double minus = loss.get();
            param[i] = saved;
            double numeric = (plus - minus) / (2 * eps);
            double diff = Math.abs(numeric - analytic[i]);
            if (!(diff <= atol + rtol * Math.max(Math.abs(numeric), Math.abs(analytic[i])))) {
                fail(String.format("%s[%d]: numeric %.8g, analytic %.8g, |diff| %.3e (atol %.1e, rtol %.1e)", label, i, numeric, analytic[i], diff, atol, rtol));
            }
        }
    }
}
