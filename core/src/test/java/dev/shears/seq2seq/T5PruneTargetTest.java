package dev.shears.seq2seq;

import dev.shears.SharedData;
import dev.shears.ShearsException;
import dev.shears.prune.Criterion;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One-shot criteria for T5 ({@link EncoderDecoderScores}) and the shape an {@link EncoderDecoderTarget} cuts to, on the real tiny T5. */
class T5PruneTargetTest {
    private static T5Model tiny() {
        return T5Model.load(SharedData.require("models/t5-tiny-random"));
    }

    @Test
    void magnitudeIsTheL2NormOfEveryWeightOfTheUnit() {
        T5Model m = tiny();
        T5Config c = m.config();
        EncoderDecoderScores s = EncoderDecoderScores.magnitude(m);
        T5Weights.DecoderLayer layer = m.weights().decoder().get(2);
        int head = 1;
        int hd = c.headDim();
        int inner = layer.cross().heads() * hd;
        double sum = 0;
        for (float[] w : List.of(layer.cross().query(), layer.cross().key(), layer.cross().value())) {
            for (int i = head * hd * c.dim(); i < (head + 1) * hd * c.dim(); i++) sum += (double) w[i] * w[i];
        }
        for (int r = 0; r < c.dim(); r++) for (int j = head * hd; j < (head + 1) * hd; j++) sum += (double) layer.cross().output()[r * inner + j] * layer.cross().output()[r * inner + j];
        assertEquals(Math.sqrt(sum), s.decoder().get(2).crossHeads()[head], 1e-9 * Math.sqrt(sum));

        int neuron = 5;
        T5Weights.FeedForward f = m.weights().encoder().get(0).ffn();
        double n = 0;
        for (int j = 0; j < c.dim(); j++) n += (double) f.up()[neuron * c.dim() + j] * f.up()[neuron * c.dim() + j];
        for (int r = 0; r < c.dim(); r++) n += (double) f.down()[r * f.ffnDim() + neuron] * f.down()[r * f.ffnDim() + neuron];
        assertEquals(Math.sqrt(n), s.encoder().get(0).ffn()[neuron], 1e-9 * Math.sqrt(n));
        assertEquals(Criterion.MAGNITUDE, s.criterion());
    }

    @Test
    void magnitudeDropsTheHeadWhoseWeightsAreSmallest() {
        T5Model m = tiny();
        T5Weights.Attention self = m.weights().encoder().get(3).self();
        for (float[] w : List.of(self.query(), self.key(), self.value(), self.output())) for (int i = 0; i < w.length; i++) w[i] *= 0.01f;
        T5Weights.Attention shrunk = m.weights().encoder().get(1).self();
        int hd = m.config().headDim();
        for (int i = 2 * hd * m.config().dim(); i < 3 * hd * m.config().dim(); i++) shrunk.query()[i] = 0;
        for (int r = 0; r < m.config().dim(); r++) for (int j = 2 * hd; j < 3 * hd; j++) shrunk.output()[r * shrunk.heads() * hd + j] = 0;
        EncoderDecoderPlan plan = new EncoderDecoderTarget(0.25, 0, 0, OptionalInt.empty(), OptionalInt.empty()).plan(m.config(), EncoderDecoderScores.magnitude(m));
        assertFalse(Arrays.stream(plan.encoder().get(1).heads()).anyMatch(h -> h == 2), "the head with no q and o weights goes: " + plan);
    }

    @Test
    void activationDropsTheHeadAndNeuronThatNeverFire() {
        T5Model m = tiny();
        T5Config c = m.config();
        int hd = c.headDim();
        // cross head 3 of decoder layer 1 reads zero values: its context is 0 at every position
        float[] v = m.weights().decoder().get(1).cross().value();
        Arrays.fill(v, 3 * hd * c.dim(), 4 * hd * c.dim(), 0f);
        // neuron 7 of encoder layer 4 (relu) has a zero wi row: relu(0) = 0 everywhere
        Arrays.fill(m.weights().encoder().get(4).ffn().up(), 7 * c.dim(), 8 * c.dim(), 0f);
        List<int[]> windows = List.of(new int[]{5, 9, 1, 3, 7, 2, 44, 8, 6, 1}, new int[]{100, 200, 300, 400, 500, 600, 700, 800});
        EncoderDecoderScores s = EncoderDecoderScores.activation(m, windows);
        assertEquals(Criterion.ACTIVATION, s.criterion());
        assertEquals(0, s.decoder().get(1).crossHeads()[3]);
        assertEquals(0, s.encoder().get(4).ffn()[7]);
        assertTrue(s.decoder().get(1).crossHeads()[0] > 0 && s.encoder().get(4).ffn().length == 37);
        assertTrue(Arrays.stream(s.hidden()).allMatch(x -> x > 0), "every channel is read by some norm");
        EncoderDecoderPlan plan = new EncoderDecoderTarget(0.25, 0.1, 0, OptionalInt.empty(), OptionalInt.empty()).plan(c, s);
        assertFalse(Arrays.stream(plan.decoder().get(1).crossHeads()).anyMatch(h -> h == 3), plan.toString());
        assertFalse(Arrays.stream(plan.encoder().get(4).ffn()).anyMatch(i -> i == 7), plan.toString());
        assertArrayEquals(s.hidden(), EncoderDecoderScores.activation(m, windows).hidden(), "the same windows give the same scores");
    }

    @Test
    void blockInfluenceDropsTheLayerThatChangesNothing() {
        T5Model m = tiny();
        // decoder layer 2 and encoder layer 1 with zero output weights pass their residual through: 1 - cos = 0
        T5Weights.DecoderLayer d = m.weights().decoder().get(2);
        for (float[] w : List.of(d.self().output(), d.cross().output(), d.ffn().down())) Arrays.fill(w, 0f);
        T5Weights.EncoderLayer e = m.weights().encoder().get(1);
        for (float[] w : List.of(e.self().output(), e.ffn().down())) Arrays.fill(w, 0f);
        EncoderDecoderLayerScores s = EncoderDecoderLayerScores.blockInfluence(m, List.of(new int[]{5, 9, 1, 3, 7, 2, 44, 8, 6, 1}, new int[]{100, 200, 300, 400, 500, 600}));
        assertEquals(Criterion.BLOCK_INFLUENCE, s.criterion());
        assertEquals(0, s.decoder()[2], 1e-6);
        assertEquals(0, s.encoder()[1], 1e-6);
        for (double[] stack : List.of(s.encoder(), s.decoder())) for (double x : stack) assertTrue(x >= -1e-6 && x <= 2, Arrays.toString(stack));
        EncoderDecoderPlan plan = new EncoderDecoderTarget(0, 0, 0, OptionalInt.of(4), OptionalInt.of(4)).plan(m.config(), EncoderDecoderScores.magnitude(m), s);
        assertFalse(plan.decoder().get(2).kept(), plan.toString());
        assertFalse(plan.encoder().get(1).kept(), plan.toString());
        assertEquals(4, plan.decoder().stream().filter(EncoderDecoderPlan.Layer::kept).count());
    }

    @Test
    void randomScoresFollowTheSeed() {
        T5Config c = tiny().config();
        EncoderDecoderTarget t = new EncoderDecoderTarget(0.5, 0.5, 0.5, OptionalInt.empty(), OptionalInt.empty());
        assertEquals(t.plan(c, EncoderDecoderScores.random(c, 7)), t.plan(c, EncoderDecoderScores.random(c, 7)));
        assertNotEquals(t.plan(c, EncoderDecoderScores.random(c, 7)), t.plan(c, EncoderDecoderScores.random(c, 8)));
    }

    @Test
    void fractionsCutEveryLayerAndLayersGoEvenlySpaced() {
        T5Model m = tiny();
        T5Config c = m.config(); // 5 + 5 layers, 4 heads, d_ff 37, d_model 32
        EncoderDecoderPlan plan = new EncoderDecoderTarget(0.5, 0.5, 0.25, OptionalInt.of(3), OptionalInt.of(4)).plan(c, EncoderDecoderScores.magnitude(m));
        T5Config r = plan.resultConfig(c);
        assertEquals(24, r.dim());
        assertEquals(3, r.encoder().size());
        assertEquals(4, r.decoder().size());
        for (T5Config.Block b : r.encoder()) {
            assertEquals(2, b.numHeads());
            assertEquals(19, b.ffnDim(), "37 · 0.5 rounds to 19");
        }
        for (T5Config.Block b : r.decoder()) assertEquals(2, b.crossHeads());
        // Jha et al.'s every-k: of 5 layers, dropping 2 removes round(5/3) = 2 and round(10/3) = 3; dropping 1 removes round(5/2) = 3
        assertArrayEquals(new boolean[]{true, true, false, false, true}, kept(plan.encoder()));
        assertArrayEquals(new boolean[]{true, true, true, false, true}, kept(plan.decoder()));
    }

    private static boolean[] kept(List<EncoderDecoderPlan.Layer> layers) {
        boolean[] k = new boolean[layers.size()];
        for (int l = 0; l < k.length; l++) k[l] = layers.get(l).kept();
        return k;
    }

    @Test
    void impossibleTargetsAreOneLineErrors() {
        T5Model m = tiny();
        EncoderDecoderScores s = EncoderDecoderScores.magnitude(m);
        for (Runnable bad : List.<Runnable>of(() -> new EncoderDecoderTarget(1, 0, 0, OptionalInt.empty(), OptionalInt.empty()),
                () -> new EncoderDecoderTarget(0, -0.1, 0, OptionalInt.empty(), OptionalInt.empty()),
                () -> new EncoderDecoderTarget(0, 0, 0, OptionalInt.of(0), OptionalInt.empty()).plan(m.config(), s),
                () -> new EncoderDecoderTarget(0, 0, 0, OptionalInt.empty(), OptionalInt.of(6)).plan(m.config(), s))) {
            ShearsException e = assertThrows(ShearsException.class, bad::run);
            assertTrue(e.getMessage().matches("--(heads|ffn|enc-layers|dec-layers) [^\\n]*"), e.getMessage());
        }
    }
}
