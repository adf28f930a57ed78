package dev.shears.l0;

import dev.shears.kernel.CrossEntropy;
import dev.shears.model.Activations;
import dev.shears.model.MaskSet;
import dev.shears.model.Model;
import dev.shears.model.ModelWeights;
import dev.shears.model.TinyModels;
import dev.shears.model.Transformer;
import dev.shears.train.MicroBatchGates;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.function.Supplier;

import static dev.shears.l0.LagrangianGradientTest.CONFIG;
import static dev.shears.l0.LagrangianGradientTest.TARGET;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Gates drawn per micro-batch, as LLM-Shearing draws them per forward pass: each micro-batch of a step has
 * its own sample, its gate gradient goes to logAlpha under that sample, and the step's gradient is their
 * sum, checked by finite differences of the step's loss (the mean of the micro-batches' losses, each under
 * its own fixed uniforms).
 */
class MicroBatchGatesTest {
    private static final long SEED = 11, STEP = 5;
    private static final int MICRO = 2, BATCH = 2, SEQ = 5, ROWS = BATCH * SEQ;

    private static Shearing shearing() {
        Shearing s = new Shearing(CONFIG, TARGET, LayerGates.LAYER, 0.2, 100, SEED, 1, 1, step -> 1, 0.9, 0.95, 1e-8);
        Random r = new Random(3);
        for (int i = 0; i < s.gates().size(); i++) s.gates().logAlpha()[i] = r.nextGaussian() * 1.5;
        return s;
    }

    @Test
    void everyMicroBatchDrawsItsOwnGatesAndTheFirstDrawsWhatAWholeStepDrewBefore() {
        Shearing s = shearing();
        L0Gates gates = s.gates();
        MicroBatchGates step = s.step(STEP);
        step.sample(0);
        double[] first = gates.lastSample().clone();
        step.sample(1);
        double[] second = gates.lastSample().clone();
        step.sample(0);
        double[] firstAgain = gates.lastSample().clone();
        assertArrayEquals(first, firstAgain, "a micro-batch's gates depend only on (seed, step, micro-batch)");
        assertFalse(Arrays.equals(first, second), "micro-batches 0 and 1 draw different gates");
        // the generator earlier versions seeded per step: micro-batch 0 keeps its samples, so runs without
        // gradient accumulation are unchanged
        SplittableRandom old = new SplittableRandom((SEED ^ Shearing.GATE_SEED_SALT) * 0x9E3779B97F4A7C15L + STEP);
        double[] u = new double[gates.size()];
        for (int i = 0; i < u.length; i++) u[i] = old.nextDouble();
        gates.sampleWith(u);
        assertArrayEquals(first, gates.lastSample());
    }

    @Test
    void theStepsGateGradientSumsEachMicroBatchUnderItsOwnSample() {
        Model model = TinyModels.random(CONFIG, 21);
        Shearing s = shearing();
        L0Gates gates = s.gates();
        Random r = new Random(8);
        int[][] tokens = new int[MICRO][ROWS], targets = new int[MICRO][ROWS];
        for (int m = 0; m < MICRO; m++) {
            for (int i = 0; i < ROWS; i++) {
                tokens[m][i] = r.nextInt(CONFIG.vocabSize());
                targets[m][i] = r.nextInt(CONFIG.vocabSize());
            }
        }
        Activations acts = Activations.forTraining(CONFIG, BATCH, SEQ);
        long gateSeed = SEED ^ Shearing.GATE_SEED_SALT;
        // the step's loss with each micro-batch under its own uniforms, as a function of logAlpha
        Supplier<Double> loss = () -> {
            double total = 0;
            for (int m = 0; m < MICRO; m++) {
                float[] logits = Transformer.forward(model, tokens[m], BATCH, SEQ, acts, gates.sample(gateSeed, STEP, m));
                total += CrossEntropy.forwardBackward(logits, targets[m], ROWS, CONFIG.vocabSize(), new float[0], 1f) / MICRO;
            }
            return total;
        };
        // as Trainer.step runs it
        MicroBatchGates step = s.step(STEP);
        for (int m = 0; m < MICRO; m++) {
            MaskSet masks = step.sample(m);
            float[] logits = Transformer.forward(model, tokens[m], BATCH, SEQ, acts, masks);
            CrossEntropy.forwardBackward(logits, targets[m], ROWS, CONFIG.vocabSize(), acts.gradients().logits, 1f / MICRO);
            Transformer.backward(model, tokens[m], acts, masks, ModelWeights.zeros(CONFIG), step.gradients());
            step.backwardDone();
        }
        double[] analytic = s.lossGradient().clone();
        // coordinates whose gate is inside (0, 1) in both samples, away from the clamp's kinks
        double[][] z = new double[MICRO][];
        for (int m = 0; m < MICRO; m++) {
            gates.sample(gateSeed, STEP, m);
            z[m] = gates.lastSample().clone();
        }
        int[] smooth = java.util.stream.IntStream.range(0, gates.size())
                .filter(i -> gates.isActive(gates.axisOf(i)))
                .filter(i -> Arrays.stream(z).allMatch(zm -> zm[i] > 0.05 && zm[i] < 0.95)).toArray();
        assertTrue(smooth.length > 10, "enough gates inside (0, 1) in both samples: " + smooth.length);
        LagrangianGradientTest.check("dLogAlpha over 2 micro-batches", gates.logAlpha(), analytic, loss, smooth, 1e-2, 1e-4, 3e-2);
    }
}
