package dev.shears.seq2seq;

import dev.shears.prune.Criterion;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The one-shot criteria of an OpenBA ({@link EncoderDecoderScores#magnitude(OpenBaModel)}, seeded random, activation, block
 * influence) and the shape {@link EncoderDecoderTarget} cuts it to, on the biased reference fixture.
 */
class OpenBaPruneTargetTest {
    private static OpenBaModel biased() {
        return OpenBaModel.load(OpenBaReferenceTest.resource("openba_bias_asym"));
    }

    @Test
    void magnitudeReadsTheFusedRowsOfEachUnit() {
        OpenBaModel m = biased();
        OpenBaConfig c = m.config();
        int d = c.dim();
        int hd = c.headDim();
        EncoderDecoderScores s = EncoderDecoderScores.magnitude(m);
        assertEquals(Criterion.MAGNITUDE, s.criterion());

        // cross head 1 of decoder layer 0: its q rows, its [k | v] block of kv, their biases, its o columns
        OpenBaWeights.CrossAttention a = m.weights().decoder().getFirst().cross();
        int head = 1;
        int inner = a.heads() * hd;
        double sum = 0;
        for (int i = head * hd * d; i < (head + 1) * hd * d; i++) sum += (double) a.query()[i] * a.query()[i];
        for (int i = head * 2 * hd * d; i < (head + 1) * 2 * hd * d; i++) sum += (double) a.keyValue()[i] * a.keyValue()[i];
        for (int i = head * hd; i < (head + 1) * hd; i++) sum += (double) a.queryBias()[i] * a.queryBias()[i];
        for (int i = head * 2 * hd; i < (head + 1) * 2 * hd; i++) sum += (double) a.keyValueBias()[i] * a.keyValueBias()[i];
        for (int r = 0; r < d; r++) for (int j = head * hd; j < (head + 1) * hd; j++) sum += (double) a.output()[r * inner + j] * a.output()[r * inner + j];
        assertEquals(Math.sqrt(sum), s.decoder().getFirst().crossHeads()[head], 1e-9 * Math.sqrt(sum));

        // neuron 5 of the encoder's MLP: fc_in rows 5 (gate) and ffn + 5 (up), fc_out column 5
        OpenBaWeights.FeedForward f = m.weights().encoder().getFirst().ffn();
        int neuron = 5;
        double n = 0;
        for (int row : new int[]{neuron, f.ffnDim() + neuron}) for (int j = 0; j < d; j++) n += (double) f.fcIn()[row * d + j] * f.fcIn()[row * d + j];
        for (int r = 0; r < d; r++) n += (double) f.fcOut()[r * f.ffnDim() + neuron] * f.fcOut()[r * f.ffnDim() + neuron];
        assertEquals(Math.sqrt(n), s.encoder().getFirst().ffn()[neuron], 1e-9 * Math.sqrt(n));
    }

    @Test
    void magnitudeDropsTheSelfHeadWhoseFusedBlockIsZero() {
        OpenBaModel m = biased();
        OpenBaConfig c = m.config();
        int d = c.dim();
        int hd = c.headDim();
        OpenBaWeights.SelfAttention self = m.weights().decoder().get(1).self();
        int head = 2;
        Arrays.fill(self.qkv(), head * 3 * hd * d, (head + 1) * 3 * hd * d, 0f);
        Arrays.fill(self.qkvBias(), head * 3 * hd, (head + 1) * 3 * hd, 0f);
        for (int r = 0; r < d; r++) Arrays.fill(self.output(), r * self.heads() * hd + head * hd, r * self.heads() * hd + (head + 1) * hd, 0f);
        EncoderDecoderPlan plan = new EncoderDecoderTarget(0.4, 0, 0, OptionalInt.empty(), OptionalInt.empty()).plan(c, EncoderDecoderScores.magnitude(m), EncoderDecoderLayerScores.everyK(c));
        assertEquals(2, plan.decoder().get(1).heads().length, "round(3 · 0.6) heads stay");
        assertFalse(Arrays.stream(plan.decoder().get(1).heads()).anyMatch(h -> h == head), "the head with a zero [q | k | v] block and o columns goes: " + plan);
    }

    @Test
    void activationDropsTheCrossHeadAndNeuronThatNeverFire() {
        OpenBaModel m = biased();
        OpenBaConfig c = m.config();
        int d = c.dim();
        int hd = c.headDim();
        // cross head 1 of decoder layer 0 reads zero values: its v rows of the fused kv (the second half of its [k | v] block) and their bias
        OpenBaWeights.CrossAttention cross = m.weights().decoder().getFirst().cross();
        int head = 1;
        Arrays.fill(cross.keyValue(), (head * 2 + 1) * hd * d, (head + 1) * 2 * hd * d, 0f);
        Arrays.fill(cross.keyValueBias(), (head * 2 + 1) * hd, (head + 1) * 2 * hd, 0f);
        // neuron 7 of the encoder's MLP has a zero gate row: silu(0) · up = 0 everywhere
        Arrays.fill(m.weights().encoder().getFirst().ffn().fcIn(), 7 * d, 8 * d, 0f);
        List<int[]> windows = List.of(new int[]{5, 9, 1, 3, 7, 2, 30, 8, 6, 1}, new int[]{10, 20, 30, 4, 15, 25, 35, 11});
        EncoderDecoderScores s = EncoderDecoderScores.activation(m, windows);
        assertEquals(Criterion.ACTIVATION, s.criterion());
        assertEquals(0, s.decoder().getFirst().crossHeads()[head]);
        assertEquals(0, s.encoder().getFirst().ffn()[7]);
        assertTrue(s.decoder().getFirst().crossHeads()[0] > 0 && s.encoder().getFirst().ffn()[6] > 0);
        assertTrue(Arrays.stream(s.hidden()).allMatch(x -> x > 0), "every channel is read by some LayerNorm");
        EncoderDecoderPlan plan = new EncoderDecoderTarget(0.4, 0, 0, OptionalInt.empty(), OptionalInt.empty()).plan(c, s, EncoderDecoderLayerScores.everyK(c));
        assertFalse(Arrays.stream(plan.decoder().getFirst().crossHeads()).anyMatch(h -> h == head), plan.toString());
    }

    @Test
    void blockInfluenceRemovesTheLayerThatChangesNothing() {
        OpenBaModel m = biased();
        OpenBaConfig c = m.config();
        // decoder layer 1 with zero o, o biases and fc_out: its residual passes through, 1 − cos = 0
        OpenBaWeights.DecoderLayer idle = m.weights().decoder().get(1);
        for (float[] w : List.of(idle.self().output(), idle.self().outputBias(), idle.cross().output(), idle.cross().outputBias(), idle.ffn().fcOut())) {
            Arrays.fill(w, 0f);
        }
        List<int[]> windows = List.of(new int[]{5, 9, 1, 3, 7, 2, 30, 8, 6, 1}, new int[]{10, 20, 30, 4, 15, 25, 35, 11});
        EncoderDecoderLayerScores scores = EncoderDecoderLayerScores.blockInfluence(m, windows);
        assertEquals(Criterion.BLOCK_INFLUENCE, scores.criterion());
        assertEquals(0, scores.decoder()[1], 1e-6);
        assertTrue(scores.decoder()[0] > 1e-3 && scores.decoder()[2] > 1e-3 && scores.encoder()[0] > 1e-3, Arrays.toString(scores.decoder()));
        EncoderDecoderPlan plan = new EncoderDecoderTarget(0, 0, 0, OptionalInt.empty(), OptionalInt.of(2)).plan(c, EncoderDecoderScores.magnitude(m), scores);
        assertFalse(plan.decoder().get(1).kept(), plan.toString());
    }

    @Test
    void randomScoresFollowTheSeedAndKeepTheVocabulary() {
        OpenBaConfig c = biased().config();
        EncoderDecoderTarget target = new EncoderDecoderTarget(0.5, 0.5, 0.25, OptionalInt.of(1), OptionalInt.of(2));
        EncoderDecoderPlan a = target.plan(c, EncoderDecoderScores.random(c, 11), EncoderDecoderLayerScores.everyK(c));
        assertEquals(a, target.plan(c, EncoderDecoderScores.random(c, 11), EncoderDecoderLayerScores.everyK(c)));
        assertNotEquals(a, target.plan(c, EncoderDecoderScores.random(c, 12), EncoderDecoderLayerScores.everyK(c)));
        assertArrayEquals(EncoderDecoderPlan.keepAll(c).vocab(), a.vocab());
        assertEquals(9, a.hidden().length);
    }
}
