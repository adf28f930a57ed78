package dev.shears.seq2seq;

import dev.shears.tensor.GradCheck;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.Supplier;

import static dev.shears.seq2seq.TinyEncoderDecoders.ids;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * T5 and OpenBA under learned gates ({@link EncoderDecoderMasks}): every gate gradient of {@link T5#backward} and
 * {@link OpenBa#backward} against central finite differences of the forward (the loss a random projection of the logits,
 * accumulated in double); masked ≡ sliced: under the 0/1 gates of a random plan, on random shapes, the masked parent's
 * logits are the logits of the model {@link T5Slicer} or {@link OpenBaSlicer} cuts to that plan; all-one gates change no bit.
 */
class MaskedEncoderDecoderTest {
    private static final int BATCH = 2, SRC_LEN = 5, TGT_LEN = 4;
    /** fp32 sums in another order: a few ulps of the logits' scale. */
    static final double TOLERANCE = 2e-5;

    @RepeatedTest(6)
    void gateGradientsMatchFiniteDifferences(RepetitionInfo info) {
        SplittableRandom r = new SplittableRandom(100 + info.getCurrentRepetition());
        T5Model model = TinyEncoderDecoders.t5(r);
        T5Config c = model.config();
        EncoderDecoderMasks masks = randomGates(c, r);
        int[] input = ids(r, c.vocabSize(), BATCH * SRC_LEN), labels = ids(r, c.vocabSize(), BATCH * TGT_LEN);
        int[] attention = new int[input.length];
        Arrays.fill(attention, 1);
        attention[input.length - 1] = 0; // padding: cross-attention and the encoder must not see it
        float[] projection = new float[BATCH * TGT_LEN * c.vocabSize()];
        for (int i = 0; i < projection.length; i++) projection[i] = (float) r.nextGaussian();
        Supplier<Double> loss = () -> GradCheck.project(T5.forward(model, masks, input, attention, labels, BATCH, SRC_LEN, TGT_LEN).logits(), projection);
        T5Pass pass = T5.forward(model, masks, input, attention, labels, BATCH, SRC_LEN, TGT_LEN);
        EncoderDecoderMasks dMasks = EncoderDecoderMasks.filled(c, 0f);
        T5.backward(model, pass, projection, T5Weights.zeros(c), dMasks);
        String name = c.describe();
        check(name + " hidden", masks.hidden(), dMasks.hidden(), loss);
        for (int l = 0; l < c.encoder().size(); l++) checkLayer(name + " encoder " + l, masks.encoder().get(l), dMasks.encoder().get(l), loss);
        for (int l = 0; l < c.decoder().size(); l++) checkLayer(name + " decoder " + l, masks.decoder().get(l), dMasks.decoder().get(l), loss);
    }

    @RepeatedTest(6)
    void openBaGateGradientsMatchFiniteDifferences(RepetitionInfo info) {
        SplittableRandom r = new SplittableRandom(200 + info.getCurrentRepetition());
        OpenBaModel model = TinyEncoderDecoders.openBa(r);
        OpenBaConfig c = model.config();
        EncoderDecoderMasks masks = randomGates(c, r);
        int[] input = ids(r, c.vocabSize(), BATCH * SRC_LEN), labels = ids(r, c.vocabSize(), BATCH * TGT_LEN);
        int[] attention = new int[input.length];
        Arrays.fill(attention, 1);
        attention[input.length - 1] = 0;
        float[] projection = new float[BATCH * TGT_LEN * c.vocabSize()];
        for (int i = 0; i < projection.length; i++) projection[i] = (float) r.nextGaussian();
        Supplier<Double> loss = () -> GradCheck.project(OpenBa.forward(model, masks, input, attention, labels, BATCH, SRC_LEN, TGT_LEN).logits(), projection);
        OpenBaPass pass = OpenBa.forward(model, masks, input, attention, labels, BATCH, SRC_LEN, TGT_LEN);
        EncoderDecoderMasks dMasks = EncoderDecoderMasks.filled(c, 0f);
        OpenBa.backward(model, pass, projection, OpenBaWeights.zeros(c), dMasks);
        String name = c.describe();
        check(name + " hidden", masks.hidden(), dMasks.hidden(), loss);
        for (int l = 0; l < c.encoder().size(); l++) checkLayer(name + " encoder " + l, masks.encoder().get(l), dMasks.encoder().get(l), loss);
        for (int l = 0; l < c.decoder().size(); l++) checkLayer(name + " decoder " + l, masks.decoder().get(l), dMasks.decoder().get(l), loss);
    }

    @RepeatedTest(40)
    void openBaMaskedEqualsSlicedOnRandomShapes(RepetitionInfo info) {
        SplittableRandom r = new SplittableRandom(8_000 + info.getCurrentRepetition());
        OpenBaModel model = TinyEncoderDecoders.openBa(r);
        OpenBaConfig c = model.config();
        EncoderDecoderPlan plan = TinyEncoderDecoders.plan(r, c);
        OpenBaModel child = OpenBaSlicer.slice(model, plan);
        int[] input = ids(r, c.vocabSize(), BATCH * SRC_LEN), labels = ids(r, c.vocabSize(), BATCH * TGT_LEN);
        int[] attention = new int[input.length];
        Arrays.fill(attention, 1);
        attention[SRC_LEN - 1] = 0;
        float[] masked = OpenBa.forward(model, EncoderDecoderMasks.of(plan, c), input, attention, labels, BATCH, SRC_LEN, TGT_LEN).logits();
        float[] sliced = OpenBa.forward(child, input, attention, labels, BATCH, SRC_LEN, TGT_LEN).logits();
        assertClose(masked, sliced, c.describe() + " cut to " + child.config().describe());
    }

    @Test
    void openBaAllOneGatesChangeNoBit() {
        SplittableRandom r = new SplittableRandom(4);
        OpenBaModel model = TinyEncoderDecoders.openBa(r);
        OpenBaConfig c = model.config();
        int[] input = ids(r, c.vocabSize(), BATCH * SRC_LEN), labels = ids(r, c.vocabSize(), BATCH * TGT_LEN);
        int[] attention = new int[input.length];
        Arrays.fill(attention, 1);
        float[] plain = OpenBa.forward(model, input, attention, labels, BATCH, SRC_LEN, TGT_LEN).logits();
        float[] gated = OpenBa.forward(model, EncoderDecoderMasks.ones(c), input, attention, labels, BATCH, SRC_LEN, TGT_LEN).logits();
        assertArrayEquals(plain, gated);
    }

    /**
     * With units dropped (gates exactly 0, as hard-concrete samples often are), the gradients of the gates still match finite
     * differences: every head, neuron and layer gate, dropped ones included (a dropped unit's gate gradient says what bringing
     * it back would do), and the non-zero hidden gates (a zero hidden gate changes the norms' channel count when moved).
     */
    @RepeatedTest(6)
    void gateGradientsWithDroppedUnitsMatchFiniteDifferences(RepetitionInfo info) {
        SplittableRandom r = new SplittableRandom(300 + info.getCurrentRepetition());
        EncoderDecoder model = info.getCurrentRepetition() % 2 == 1 ? TinyEncoderDecoders.t5(r) : TinyEncoderDecoders.openBa(r);
        EncoderDecoderConfig c = model.config();
        EncoderDecoderMasks masks = randomGates(c, r);
        EncoderDecoderPlan plan = TinyEncoderDecoders.plan(r, c);
        EncoderDecoderMasks zeroOne = EncoderDecoderMasks.of(plan, c);
        masks.multiply(zeroOne);
        int[] input = ids(r, c.vocabSize(), BATCH * SRC_LEN), labels = ids(r, c.vocabSize(), BATCH * TGT_LEN);
        int[] attention = new int[input.length];
        Arrays.fill(attention, 1);
        float[] projection = new float[BATCH * TGT_LEN * c.vocabSize()];
        for (int i = 0; i < projection.length; i++) projection[i] = (float) r.nextGaussian();
        EncoderDecoderMasks dMasks = EncoderDecoderMasks.filled(c, 0f);
        Supplier<Double> loss = switch (model) {
            case T5Model t -> {
                T5.backward(t, T5.forward(t, masks, input, attention, labels, BATCH, SRC_LEN, TGT_LEN), projection, T5Weights.zeros(t.config()), dMasks);
                yield () -> GradCheck.project(T5.forward(t, masks, input, attention, labels, BATCH, SRC_LEN, TGT_LEN).logits(), projection);
            }
            case OpenBaModel o -> {
                OpenBa.backward(o, OpenBa.forward(o, masks, input, attention, labels, BATCH, SRC_LEN, TGT_LEN), projection, OpenBaWeights.zeros(o.config()), dMasks);
                yield () -> GradCheck.project(OpenBa.forward(o, masks, input, attention, labels, BATCH, SRC_LEN, TGT_LEN).logits(), projection);
            }
        };
        String name = c.describe() + " cut to " + plan;
        GradCheck.checkAt(name + " hidden", masks.hidden(), dMasks.hidden(), loss, plan.hidden(), 1e-3, 1e-3, 3e-2);
        for (int l = 0; l < c.encoder().size(); l++) checkLayer(name + " encoder " + l, masks.encoder().get(l), dMasks.encoder().get(l), loss);
        for (int l = 0; l < c.decoder().size(); l++) checkLayer(name + " decoder " + l, masks.decoder().get(l), dMasks.decoder().get(l), loss);
    }

    static void checkLayer(String name, EncoderDecoderMasks.Layer m, EncoderDecoderMasks.Layer d, Supplier<Double> loss) {
        check(name + " layer", m.layer(), d.layer(), loss);
        check(name + " heads", m.heads(), d.heads(), loss);
        check(name + " cross heads", m.crossHeads(), d.crossHeads(), loss);
        check(name + " ffn", m.ffn(), d.ffn(), loss);
    }

    static void check(String name, float[] gates, float[] analytic, Supplier<Double> loss) {
        GradCheck.check(name, gates, analytic, loss, 6, 1e-3, 1e-3, 3e-2);
    }

    /** Gates in [0.5, 1.5): none zero, so the norms' divisor stays put under the perturbation. */
    static EncoderDecoderMasks randomGates(EncoderDecoderConfig c, SplittableRandom r) {
        EncoderDecoderMasks m = EncoderDecoderMasks.ones(c);
        fill(m.hidden(), r);
        for (EncoderDecoderMasks.Layer l : m.encoder()) fill(l, r);
        for (EncoderDecoderMasks.Layer l : m.decoder()) fill(l, r);
        return m;
    }

    private static void fill(EncoderDecoderMasks.Layer l, SplittableRandom r) {
        fill(l.layer(), r);
        fill(l.heads(), r);
        fill(l.crossHeads(), r);
        fill(l.ffn(), r);
    }

    private static void fill(float[] x, SplittableRandom r) {
        for (int i = 0; i < x.length; i++) x[i] = (float) (0.5 + r.nextDouble());
    }

    @RepeatedTest(40)
    void maskedEqualsSlicedOnRandomShapes(RepetitionInfo info) {
        SplittableRandom r = new SplittableRandom(7_000 + info.getCurrentRepetition());
        T5Model model = TinyEncoderDecoders.t5(r);
        T5Config c = model.config();
        EncoderDecoderPlan plan = TinyEncoderDecoders.plan(r, c);
        T5Model child = T5Slicer.slice(model, plan);
        int[] input = ids(r, c.vocabSize(), BATCH * SRC_LEN), labels = ids(r, c.vocabSize(), BATCH * TGT_LEN);
        int[] attention = new int[input.length];
        Arrays.fill(attention, 1);
        attention[SRC_LEN - 1] = 0;
        float[] masked = T5.forward(model, EncoderDecoderMasks.of(plan, c), input, attention, labels, BATCH, SRC_LEN, TGT_LEN).logits();
        float[] sliced = T5.forward(child, input, attention, labels, BATCH, SRC_LEN, TGT_LEN).logits();
        assertClose(masked, sliced, c.describe() + " cut to " + child.config().describe());
    }

    @Test
    void allOneGatesChangeNoBit() {
        SplittableRandom r = new SplittableRandom(3);
        T5Model model = TinyEncoderDecoders.t5(r);
        T5Config c = model.config();
        int[] input = ids(r, c.vocabSize(), BATCH * SRC_LEN), labels = ids(r, c.vocabSize(), BATCH * TGT_LEN);
        int[] attention = new int[input.length];
        Arrays.fill(attention, 1);
        float[] plain = T5.forward(model, input, attention, labels, BATCH, SRC_LEN, TGT_LEN).logits();
        float[] gated = T5.forward(model, EncoderDecoderMasks.ones(c), input, attention, labels, BATCH, SRC_LEN, TGT_LEN).logits();
        assertArrayEquals(plain, gated);
    }

    static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": logits");
        double scale = 0;
        for (float v : expected) scale = Math.max(scale, Math.abs(v));
        int worst = 0;
        for (int i = 0; i < expected.length; i++) if (Math.abs(expected[i] - actual[i]) > Math.abs(expected[worst] - actual[worst])) worst = i;
        double diff = Math.abs(expected[worst] - actual[worst]);
        assertTrue(diff <= TOLERANCE * (1 + scale), what + ": worst logit " + worst + " masked " + expected[worst] + " vs sliced " + actual[worst]
                + " (|diff| " + diff + ", scale " + scale + ")");
    }
}
