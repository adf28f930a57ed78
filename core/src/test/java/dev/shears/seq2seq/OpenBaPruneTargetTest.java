package dev.shears.seq2seq;

import dev.shears.prune.Criterion;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** The one-shot criteria of an OpenBA ({@link T5Scores#magnitude(OpenBaModel)}, seeded random) and the shape {@link T5Target} cuts it to, on the biased reference fixture. */
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
        T5Scores s = T5Scores.magnitude(m);
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
        T5Plan plan = new T5Target(0.4, 0, 0, OptionalInt.empty(), OptionalInt.empty()).plan(c, T5Scores.magnitude(m), T5LayerScores.everyK(c));
        assertEquals(2, plan.decoder().get(1).heads().length, "round(3 · 0.6) heads stay");
        assertFalse(Arrays.stream(plan.decoder().get(1).heads()).anyMatch(h -> h == head), "the head with a zero [q | k | v] block and o columns goes: " + plan);
    }

    @Test
    void randomScoresFollowTheSeedAndKeepTheVocabulary() {
        OpenBaConfig c = biased().config();
        T5Target target = new T5Target(0.5, 0.5, 0.25, OptionalInt.of(1), OptionalInt.of(2));
        T5Plan a = target.plan(c, T5Scores.random(c, 11), T5LayerScores.everyK(c));
        assertEquals(a, target.plan(c, T5Scores.random(c, 11), T5LayerScores.everyK(c)));
        assertNotEquals(a, target.plan(c, T5Scores.random(c, 12), T5LayerScores.everyK(c)));
        assertArrayEquals(T5Plan.keepAll(c).vocab(), a.vocab());
        assertEquals(9, a.hidden().length);
    }
}
