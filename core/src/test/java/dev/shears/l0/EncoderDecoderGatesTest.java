package dev.shears.l0;

import dev.shears.l0.EncoderDecoderGates.Axis;
import dev.shears.l0.EncoderDecoderGates.Row;
import dev.shears.seq2seq.EncoderDecoder;
import dev.shears.seq2seq.EncoderDecoderConfig;
import dev.shears.seq2seq.EncoderDecoderMasks;
import dev.shears.seq2seq.OpenBa;
import dev.shears.seq2seq.OpenBaModel;
import dev.shears.seq2seq.OpenBaWeights;
import dev.shears.seq2seq.T5;
import dev.shears.seq2seq.T5Model;
import dev.shears.seq2seq.EncoderDecoderPlan;
import dev.shears.seq2seq.EncoderDecoderTarget;
import dev.shears.seq2seq.T5Weights;
import dev.shears.seq2seq.TinyEncoderDecoders;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;

import java.util.Arrays;
import java.util.OptionalInt;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The gates of an encoder–decoder ({@link EncoderDecoderGates}) on random T5s and OpenBAs: the closed-form expected size
 * at 0/1 probabilities is the parameter count of the child {@link EncoderDecoderFinalisation} cuts; the Lagrangian's
 * gradients and the chain rule from the model's gate gradients to logAlpha against central finite differences in double;
 * finalisation lands on the target's exact shape and gives the parent's logits under the deterministic gates.
 */
class EncoderDecoderGatesTest {
    private static final int BATCH = 2, SRC_LEN = 5, TGT_LEN = 4;

    /** Random T5s on odd repetitions, random OpenBAs on even ones. */
    static EncoderDecoder model(SplittableRandom r, int repetition) {
        return repetition % 2 == 1 ? TinyEncoderDecoders.t5(r) : TinyEncoderDecoders.openBa(r);
    }

    /** A target that prunes every axis the shape allows: a third of each width, one layer of each stack with more than one. */
    static EncoderDecoderTarget target(EncoderDecoderConfig c) {
        return new EncoderDecoderTarget(0.34, 0.34, 0.34, OptionalInt.of(Math.max(1, c.encoder().size() - 1)), OptionalInt.of(Math.max(1, c.decoder().size() - 1)));
    }

    @RepeatedTest(30)
    void expectedSizeAtZeroOneGatesIsTheSlicedChildsParameterCount(RepetitionInfo info) {
        SplittableRandom r = new SplittableRandom(500 + info.getCurrentRepetition());
        EncoderDecoder model = model(r, info.getCurrentRepetition());
        EncoderDecoderConfig c = model.config();
        EncoderDecoderGates gates = new EncoderDecoderGates(c, target(c));
        EncoderDecoderPlan plan = TinyEncoderDecoders.plan(r, c);
        EncoderDecoderMasks zeroOne = EncoderDecoderMasks.of(plan, c);
        // a removed layer's units carry no size whatever their gates say
        for (int l = 0; l < plan.encoder().size(); l++) if (!plan.encoder().get(l).kept()) Arrays.fill(zeroOne.encoder().get(l).ffn(), 0f);
        double expected = EncoderDecoderSize.parameters(gates, gates.read(zeroOne));
        EncoderDecoder child = EncoderDecoderFinalisation.finalise(model, gates, plan);
        assertEquals(child.parameterCount(), expected, 0.0, c.describe() + " cut to " + child.describe());
        assertEquals(c.parameterCount(), EncoderDecoderSize.parameters(gates, gates.read(EncoderDecoderMasks.ones(c))), 0.0, "all gates on: the parent");
    }

    @RepeatedTest(6)
    void lagrangianGradientsMatchFiniteDifferences(RepetitionInfo info) {
        SplittableRandom r = new SplittableRandom(900 + info.getCurrentRepetition());
        EncoderDecoderConfig c = model(r, info.getCurrentRepetition()).config();
        EncoderDecoderGates gates = new EncoderDecoderGates(c, target(c));
        Random g = new Random(info.getCurrentRepetition());
        for (int i = 0; i < gates.size(); i++) gates.logAlpha()[i] = g.nextGaussian() * 1.5;
        EncoderDecoderLagrangian lagrangian = new EncoderDecoderLagrangian(gates, 0.5, 10);
        for (int i = 0; i < lagrangian.lambda().length; i++) lagrangian.lambda()[i] = g.nextGaussian() * 3;
        long step = 3; // inside the ramp
        DoubleSupplier total = () -> lagrangian.evaluate(gates.keepProbabilities(), step).total();
        double[] dLogAlpha = new double[gates.size()], dLambda = new double[lagrangian.lambda().length];
        double[] keep = gates.keepProbabilities();
        lagrangian.backward(lagrangian.evaluate(keep, step), keep, gates.keepProbabilityGradients(), dLogAlpha, dLambda);
        checkDouble("λ", lagrangian.lambda(), dLambda, total, 1e-6, 1e-7);
        checkDouble("logAlpha", gates.logAlpha(), dLogAlpha, total, 1e-6, 1e-7);
    }

    @RepeatedTest(6)
    void logAlphaGradientsOfTheModelLossMatchFiniteDifferences(RepetitionInfo info) {
        SplittableRandom r = new SplittableRandom(1300 + info.getCurrentRepetition());
        EncoderDecoder model = model(r, info.getCurrentRepetition());
        EncoderDecoderConfig c = model.config();
        EncoderDecoderShearing shearing = new EncoderDecoderShearing(c, target(c), 0.2, 10, 5, 0.1, 0.1, s -> 1, 0.9, 0.999, 1e-8);
        EncoderDecoderGates gates = shearing.gates();
        Random g = new Random(info.getCurrentRepetition());
        // logAlpha near 0: most samples inside (0, 1), where z depends on logAlpha
        for (int i = 0; i < gates.size(); i++) gates.logAlpha()[i] = g.nextGaussian() * 0.5;
        int[] input = TinyEncoderDecoders.ids(r, c.vocabSize(), BATCH * SRC_LEN), labels = TinyEncoderDecoders.ids(r, c.vocabSize(), BATCH * TGT_LEN);
        float[] projection = new float[BATCH * TGT_LEN * c.vocabSize()];
        for (int i = 0; i < projection.length; i++) projection[i] = (float) r.nextGaussian();
        long step = 4;
        DoubleSupplier loss = () -> project(logits(model, shearing.sample(step, 0), input, labels), projection);
        EncoderDecoderMasks masks = shearing.sample(step, 0);
        backward(model, masks, shearing.gradients(), input, labels, projection);
        shearing.backwardDone();
        double[] analytic = shearingLossGradient(shearing);
        // a sampled gate clamped at 0 or 1 has no gradient, and the norms' divisor jumps where a hidden gate reaches 0: skip those
        double[] z = gates.read(shearing.sample(step, 0));
        double[] lo = gates.logAlpha().clone();
        int checked = 0;
        for (Row row : gates.rows()) {
            if (!gates.isActive(row.axis())) continue;
            for (int k = row.offset(); k < row.offset() + row.units(); k += Math.max(1, row.units() / 3)) {
                if (z[k] <= 0.05 || z[k] >= 0.95) continue;
                if (row.axis() == Axis.HIDDEN && Arrays.stream(EncoderDecoderGates.values(z, row)).anyMatch(v -> v == 0)) continue;
                double eps = 1e-3;
                gates.logAlpha()[k] = lo[k] + eps;
                double plus = loss.getAsDouble();
                gates.logAlpha()[k] = lo[k] - eps;
                double minus = loss.getAsDouble();
                gates.logAlpha()[k] = lo[k];
                double numeric = (plus - minus) / (2 * eps);
                checked++;
                if (Math.abs(numeric - analytic[k]) > 2e-3 + 3e-2 * Math.max(Math.abs(numeric), Math.abs(analytic[k]))) {
                    fail(c.describe() + ": " + row + " gate " + k + ": numeric " + numeric + ", analytic " + analytic[k]);
                }
            }
        }
        assertTrue(checked >= 5, "only " + checked + " gates inside (0, 1) to check");
    }

    private static double[] shearingLossGradient(EncoderDecoderShearing shearing) {
        return shearing.lossGradient().clone();
    }

    @RepeatedTest(10)
    void finalisationLandsOnTheTargetShapeWithTheGatedLogits(RepetitionInfo info) {
        SplittableRandom r = new SplittableRandom(2100 + info.getCurrentRepetition());
        EncoderDecoder model = model(r, info.getCurrentRepetition());
        EncoderDecoderConfig c = model.config();
        EncoderDecoderTarget target = target(c);
        EncoderDecoderGates gates = new EncoderDecoderGates(c, target);
        Random g = new Random(info.getCurrentRepetition());
        for (int i = 0; i < gates.size(); i++) gates.logAlpha()[i] = g.nextGaussian() * 2;
        EncoderDecoderPlan plan = EncoderDecoderFinalisation.plan(gates);
        EncoderDecoder child = EncoderDecoderFinalisation.finalise(model, gates, plan);
        EncoderDecoderConfig s = child.config();
        assertEquals(target.encoderLayers().getAsInt(), s.encoder().size(), "encoder layers");
        assertEquals(target.decoderLayers().getAsInt(), s.decoder().size(), "decoder layers");
        assertEquals(EncoderDecoderTarget.kept(c.dim(), target.hidden()), s.dim(), "hidden");
        int kept = 0;
        for (int l = 0; l < c.encoder().size(); l++) {
            if (!plan.encoder().get(l).kept()) continue;
            assertEquals(EncoderDecoderTarget.kept(c.encoder().get(l).numHeads(), target.heads()), s.encoder().get(kept).numHeads(), "encoder heads");
            assertEquals(EncoderDecoderTarget.kept(c.encoder().get(l).ffnDim(), target.ffn()), s.encoder().get(kept++).ffnDim(), "encoder ffn");
        }
        kept = 0;
        for (int l = 0; l < c.decoder().size(); l++) {
            if (!plan.decoder().get(l).kept()) continue;
            assertEquals(EncoderDecoderTarget.kept(c.decoder().get(l).numHeads(), target.heads()), s.decoder().get(kept).numHeads(), "decoder heads");
            assertEquals(EncoderDecoderTarget.kept(c.decoder().get(l).crossHeads(), target.heads()), s.decoder().get(kept).crossHeads(), "decoder cross heads");
            assertEquals(EncoderDecoderTarget.kept(c.decoder().get(l).ffnDim(), target.ffn()), s.decoder().get(kept++).ffnDim(), "decoder ffn");
        }
        int[] input = TinyEncoderDecoders.ids(r, c.vocabSize(), BATCH * SRC_LEN), labels = TinyEncoderDecoders.ids(r, c.vocabSize(), BATCH * TGT_LEN);
        float[] gated = logits(model, EncoderDecoderFinalisation.masks(gates, plan), input, labels);
        float[] sliced = logits(child, EncoderDecoderMasks.ones(s), input, labels);
        double scale = 0, worst = 0;
        for (int i = 0; i < gated.length; i++) {
            scale = Math.max(scale, Math.abs(gated[i]));
            worst = Math.max(worst, Math.abs(gated[i] - sliced[i]));
        }
        assertTrue(worst <= 2e-5 * (1 + scale), c.describe() + ": finalised logits differ from the gated parent's by " + worst + " (scale " + scale + ")");
    }

    static float[] logits(EncoderDecoder model, EncoderDecoderMasks masks, int[] input, int[] labels) {
        int[] attention = new int[input.length];
        Arrays.fill(attention, 1);
        return switch (model) {
            case T5Model t -> T5.forward(t, masks, input, attention, labels, BATCH, SRC_LEN, TGT_LEN).logits();
            case OpenBaModel o -> OpenBa.forward(o, masks, input, attention, labels, BATCH, SRC_LEN, TGT_LEN).logits();
        };
    }

    private static void backward(EncoderDecoder model, EncoderDecoderMasks masks, EncoderDecoderMasks dMasks, int[] input, int[] labels, float[] dLogits) {
        int[] attention = new int[input.length];
        Arrays.fill(attention, 1);
        switch (model) {
            case T5Model t -> T5.backward(t, T5.forward(t, masks, input, attention, labels, BATCH, SRC_LEN, TGT_LEN), dLogits, T5Weights.zeros(t.config()), dMasks);
            case OpenBaModel o -> OpenBa.backward(o, OpenBa.forward(o, masks, input, attention, labels, BATCH, SRC_LEN, TGT_LEN), dLogits,
                    OpenBaWeights.zeros(o.config()), dMasks);
        }
    }

    private static double project(float[] y, float[] w) {
        double s = 0;
        for (int i = 0; i < w.length; i++) s += (double) y[i] * w[i];
        return s;
    }

    private static void checkDouble(String name, double[] x, double[] analytic, DoubleSupplier f, double eps, double atol) {
        for (int i = 0; i < x.length; i++) {
            double saved = x[i];
            x[i] = saved + eps;
            double plus = f.getAsDouble();
            x[i] = saved - eps;
            double minus = f.getAsDouble();
            x[i] = saved;
            double numeric = (plus - minus) / (2 * eps);
            if (Math.abs(numeric - analytic[i]) > atol + 1e-5 * Math.abs(numeric)) fail(name + "[" + i + "]: numeric " + numeric + ", analytic " + analytic[i]);
        }
    }
}
