package dev.shears.seq2seq;

import dev.shears.SharedData;
import dev.shears.ShearsException;
import dev.shears.dist.SingleProcess;
import dev.shears.prune.Criterion;
import dev.shears.prune.CriterionOptions;
import dev.shears.prune.TaylorVariant;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 16: first-order Taylor and angular distance for an encoder–decoder. Taylor's gate gradient of a unit is held to
 * its brute-force definition, the slope of the loss when every weight at the unit's gate site is scaled by z around 1
 * (a central difference), window by window and summed as the variants sum them; angular distance to arccos(cos)/π of
 * the boundaries read off the forward pass, and the block it drops to the one a pass-through run of layers makes.
 */
class T5CriteriaTest {
    private static final List<int[]> T5_WINDOWS = List.of(new int[]{5, 9, 1, 3, 7, 2, 44, 8, 6, 1}, new int[]{100, 200, 300, 400, 500, 600, 700, 800});
    private static final List<int[]> SMALL_WINDOWS = List.of(new int[]{5, 9, 1, 3, 7, 2, 4, 8, 6, 1}, new int[]{10, 20, 28, 11, 21, 27, 12, 22});
    private static final float STEP = 1e-2f;

    private static T5Model t5() {
        return T5Model.load(SharedData.require("models/t5-tiny-random"));
    }

    /** A gated-gelu T5 with an untied head (smooth: a difference quotient across a relu's kink would not be the slope). */
    private static T5Model t5Gated() {
        return T5Model.load(T5ReferenceTest.resource("t5_gated_untied"));
    }

    private static OpenBaModel openBa(String fixture) {
        return OpenBaModel.load(OpenBaReferenceTest.resource(fixture));
    }

    /** The weights a unit's gate scales: entries of arrays of the model. */
    private record Site(List<float[]> arrays, List<int[]> entries) {
        Site() {
            this(new ArrayList<>(), new ArrayList<>());
        }

        Site add(float[] array, int... at) {
            arrays.add(array);
            entries.add(at);
            return this;
        }

        /** Columns [from, to) of a [rows, cols] matrix. */
        Site columns(float[] m, int rows, int cols, int from, int to) {
            int[] at = new int[rows * (to - from)];
            int k = 0;
            for (int r = 0; r < rows; r++) for (int j = from; j < to; j++) at[k++] = r * cols + j;
            return add(m, at);
        }

        /** Row i of a [rows, cols] matrix. */
        Site row(float[] m, int cols, int i) {
            int[] at = new int[cols];
            for (int j = 0; j < cols; j++) at[j] = i * cols + j;
            return add(m, at);
        }

        void scale(float by) {
            for (int a = 0; a < arrays.size(); a++) for (int i : entries.get(a)) arrays.get(a)[i] *= by;
        }
    }

    /**
     * dL/dz at z = 1 where z scales every weight of {@code site}: central differences D(h) = (L(1 + h) − L(1 − h)) / 2h at
     * h and h/2, extrapolated (Richardson: (4·D(h/2) − D(h)) / 3 cancels the h² term); the weights restored after.
     */
    private static double slope(EncoderDecoder model, int[] window, Site site) {
        return (4 * difference(model, window, site, STEP / 2) - difference(model, window, site, STEP)) / 3;
    }

    private static double difference(EncoderDecoder model, int[] window, Site site, float h) {
        float[][] saved = site.arrays().stream().map(float[]::clone).toArray(float[][]::new);
        site.scale(1 + h);
        double up = loss(model, window);
        for (int a = 0; a < saved.length; a++) System.arraycopy(saved[a], 0, site.arrays().get(a), 0, saved[a].length);
        site.scale(1 - h);
        double down = loss(model, window);
        for (int a = 0; a < saved.length; a++) System.arraycopy(saved[a], 0, site.arrays().get(a), 0, saved[a].length);
        return (up - down) / (2 * h);
    }

    private static double loss(EncoderDecoder model, int[] window) {
        return switch (model) {
            case T5Model t5 -> T5.loss(T5.forwardWindow(t5, window), T5.windowLabels(window), new float[0]);
            case OpenBaModel o -> OpenBa.loss(OpenBa.forwardWindow(o, window), T5.windowLabels(window), new float[0]);
        };
    }

    /** The brute-force gate gradients of some units of each axis, and where Taylor's scores keep them. */
    private record Probe(String name, Site site, java.util.function.Function<EncoderDecoderScores, Double> score) {
    }

    private static List<Probe> t5Probes(T5Model m) {
        T5Config c = m.config();
        T5Weights w = m.weights();
        int d = c.dim(), hd = c.headDim();
        List<Probe> probes = new ArrayList<>();
        T5Weights.Attention encSelf = w.encoder().getFirst().self();
        probes.add(new Probe("encoder layer 0 head 2", new Site().columns(encSelf.output(), d, encSelf.heads() * hd, 2 * hd, 3 * hd),
                s -> s.encoder().getFirst().heads()[2]));
        T5Weights.Attention cross = w.decoder().get(2).cross();
        probes.add(new Probe("decoder layer 2 cross head 0", new Site().columns(cross.output(), d, cross.heads() * hd, 0, hd),
                s -> s.decoder().get(2).crossHeads()[0]));
        T5Weights.Attention decSelf = w.decoder().get(0).self();
        probes.add(new Probe("decoder layer 0 head 3", new Site().columns(decSelf.output(), d, decSelf.heads() * hd, 3 * hd, 4 * hd),
                s -> s.decoder().get(0).heads()[3]));
        T5Weights.FeedForward ffn = w.decoder().get(1).ffn();
        probes.add(new Probe("decoder layer 1 neuron 11", new Site().columns(ffn.down(), d, ffn.ffnDim(), 11, 12), s -> s.decoder().get(1).ffn()[11]));
        for (int j : new int[]{3, 12}) {
            Site hidden = new Site().columns(w.shared(), c.vocabSize(), d, j, j + 1).add(w.encoderNorm(), j);
            if (!c.tiedEmbeddings()) hidden.columns(w.lmHead(), c.vocabSize(), d, j, j + 1);
            for (T5Weights.EncoderLayer l : w.encoder()) hidden.row(l.self().output(), l.self().heads() * hd, j).row(l.ffn().down(), l.ffn().ffnDim(), j);
            for (T5Weights.DecoderLayer l : w.decoder()) {
                hidden.row(l.self().output(), l.self().heads() * hd, j).row(l.cross().output(), l.cross().heads() * hd, j).row(l.ffn().down(), l.ffn().ffnDim(), j);
            }
            probes.add(new Probe("hidden channel " + j, hidden, s -> s.hidden()[j]));
        }
        return probes;
    }

    private static List<Probe> openBaProbes(OpenBaModel m) {
        OpenBaConfig c = m.config();
        OpenBaWeights w = m.weights();
        int d = c.dim(), hd = c.headDim();
        List<Probe> probes = new ArrayList<>();
        OpenBaWeights.SelfAttention encSelf = w.encoder().getFirst().self();
        probes.add(new Probe("encoder layer 0 head 1", new Site().columns(encSelf.output(), d, encSelf.heads() * hd, hd, 2 * hd),
                s -> s.encoder().getFirst().heads()[1]));
        OpenBaWeights.CrossAttention cross = w.decoder().get(1).cross();
        probes.add(new Probe("decoder layer 1 cross head 2", new Site().columns(cross.output(), d, cross.heads() * hd, 2 * hd, 3 * hd),
                s -> s.decoder().get(1).crossHeads()[2]));
        int last = w.decoder().size() - 1;
        OpenBaWeights.FeedForward ffn = w.decoder().get(last).ffn();
        probes.add(new Probe("last decoder layer's neuron 40", new Site().columns(ffn.fcOut(), d, ffn.ffnDim(), 40, 41), s -> s.decoder().get(last).ffn()[40]));
        for (int j : new int[]{0, 7}) {
            Site hidden = new Site().columns(w.shared(), c.vocabSize(), d, j, j + 1).add(w.encoderNorm().weight(), j).add(w.encoderNorm().bias(), j);
            if (!c.tiedEmbeddings()) hidden.columns(w.lmHead(), c.vocabSize(), d, j, j + 1);
            for (OpenBaWeights.EncoderLayer l : w.encoder()) {
                hidden.row(l.self().output(), l.self().heads() * hd, j).add(l.self().outputBias(), j).row(l.ffn().fcOut(), l.ffn().ffnDim(), j);
            }
            for (OpenBaWeights.DecoderLayer l : w.decoder()) {
                hidden.row(l.self().output(), l.self().heads() * hd, j).add(l.self().outputBias(), j)
                        .row(l.cross().output(), l.cross().heads() * hd, j).add(l.cross().outputBias(), j).row(l.ffn().fcOut(), l.ffn().ffnDim(), j);
            }
            probes.add(new Probe("hidden channel " + j, hidden, s -> s.hidden()[j]));
        }
        return probes;
    }

    @Test
    void t5TaylorScoresAreTheLossSlopesOfScalingEachUnitSummedOverWindows() {
        T5Model m = t5Gated();
        checkTaylor(m, SMALL_WINDOWS, t5Probes(m));
    }

    @Test
    void openBaTaylorScoresAreTheLossSlopesOfScalingEachUnitSummedOverWindows() {
        OpenBaModel m = openBa("openba_bias_asym");
        checkTaylor(m, SMALL_WINDOWS, openBaProbes(m));
    }

    /** A tied table: a hidden channel's column serves the embedding and the head, whose input is the decoder's final norm. */
    @Test
    void tiedOpenBaTaylorScoresAreTheLossSlopesOfScalingEachUnitSummedOverWindows() {
        OpenBaModel m = openBa("openba_nobias_tied");
        assertTrue(m.config().tiedEmbeddings());
        checkTaylor(m, SMALL_WINDOWS, openBaProbes(m));
    }

    /**
     * Per window, the gate gradient equals the brute-force slope; gate-per-sequence scores Σ_j |slope_j|, gate
     * |mean slope|, gate-mix-per-sequence Σ_j |g_j − ½·g_j²|, gate-mix |ḡ − ½·mean g²|.
     */
    private static void checkTaylor(EncoderDecoder m, List<int[]> windows, List<Probe> probes) {
        int n = windows.size();
        double[][] slopes = new double[probes.size()][n];
        double scale = 0;
        for (int p = 0; p < probes.size(); p++) {
            for (int i = 0; i < n; i++) {
                slopes[p][i] = slope(m, windows.get(i), probes.get(p).site());
                scale = Math.max(scale, Math.abs(slopes[p][i]));
            }
        }
        assertTrue(scale > 0, "the probes move the loss");
        // a central difference of step h is off by O(h²) relative; fp32 losses add noise far below 1e-4 of the largest slope
        double tolerance = 1e-4 * scale;
        for (int i = 0; i < n; i++) {
            EncoderDecoderScores g = EncoderDecoderScores.gates(m, windows.get(i));
            for (int p = 0; p < probes.size(); p++) {
                assertEquals(slopes[p][i], probes.get(p).score().apply(g), 2e-3 * Math.abs(slopes[p][i]) + tolerance, probes.get(p).name() + ", window " + i);
            }
        }
        EncoderDecoderScores perSequence = EncoderDecoderScores.taylor(m, windows, TaylorVariant.GATE_PER_SEQUENCE, new SingleProcess());
        EncoderDecoderScores batch = EncoderDecoderScores.taylor(m, windows, TaylorVariant.GATE, new SingleProcess());
        EncoderDecoderScores mixPerSequence = EncoderDecoderScores.taylor(m, windows, TaylorVariant.GATE_MIX_PER_SEQUENCE, new SingleProcess());
        EncoderDecoderScores mix = EncoderDecoderScores.taylor(m, windows, TaylorVariant.GATE_MIX, new SingleProcess());
        assertEquals(Criterion.TAYLOR, perSequence.criterion());
        for (int p = 0; p < probes.size(); p++) {
            double abs = 0, mean = 0, mixAbs = 0, fisher = 0;
            for (double g : slopes[p]) {
                abs += Math.abs(g);
                mean += g / n;
                mixAbs += Math.abs(g - 0.5 * g * g);
                fisher += g * g / n;
            }
            Probe probe = probes.get(p);
            assertEquals(abs, probe.score().apply(perSequence), 1e-2 * abs + n * tolerance, probe.name() + ": gate-per-sequence");
            assertEquals(Math.abs(mean), probe.score().apply(batch), 1e-2 * abs + tolerance, probe.name() + ": gate");
            assertEquals(mixAbs, probe.score().apply(mixPerSequence), 2e-2 * (abs + fisher * n) + n * tolerance, probe.name() + ": gate-mix-per-sequence");
            assertEquals(Math.abs(mean - 0.5 * fisher), probe.score().apply(mix), 2e-2 * (abs + fisher * n) + tolerance, probe.name() + ": gate-mix");
        }
        ShearsException e = assertThrows(ShearsException.class, () -> EncoderDecoderScores.taylor(m, windows, TaylorVariant.PARAM_MIX, new SingleProcess()));
        assertEquals(1, e.getMessage().lines().count());
    }

    @Test
    void taylorDropsTheHeadWhoseOutputIsZero() {
        T5Model m = t5();
        T5Config c = m.config();
        int hd = c.headDim();
        T5Weights.Attention self = m.weights().encoder().get(2).self();
        int inner = self.heads() * hd;
        for (int r = 0; r < c.dim(); r++) Arrays.fill(self.output(), r * inner + hd, r * inner + 2 * hd, 0f);
        EncoderDecoderScores s = EncoderDecoderScores.taylor(m, T5_WINDOWS, TaylorVariant.GATE_PER_SEQUENCE, new SingleProcess());
        assertEquals(0, s.encoder().get(2).heads()[1]);
        EncoderDecoderPlan plan = new EncoderDecoderTarget(0.25, 0, 0, OptionalInt.empty(), OptionalInt.empty()).plan(c, s);
        assertTrue(Arrays.stream(plan.encoder().get(2).heads()).noneMatch(h -> h == 1), plan.toString());
    }

    @Test
    void angularIsTheArccosOfTheBoundariesAndDropsThePassThroughBlock() {
        T5Model m = t5();
        // decoder layers 1 and 2 pass their residual through: the input of layer 1 is the input of layer 3
        for (int l : new int[]{1, 2}) {
            T5Weights.DecoderLayer d = m.weights().decoder().get(l);
            for (float[] w : List.of(d.self().output(), d.cross().output(), d.ffn().down())) Arrays.fill(w, 0f);
        }
        int dim = m.config().dim();
        for (CriterionOptions.AngularTokens tokens : CriterionOptions.AngularTokens.values()) {
            for (CriterionOptions.FinalState state : CriterionOptions.FinalState.values()) {
                CriterionOptions options = new CriterionOptions(CriterionOptions.DEFAULT.taylor(), CriterionOptions.DEFAULT.taylorReduction(), tokens, state);
                EncoderDecoderLayerScores s = EncoderDecoderLayerScores.angular(m, T5_WINDOWS, 3, 2, options, new SingleProcess());
                assertEquals(Criterion.ANGULAR, s.criterion());
                double[] encoder = new double[5], decoder = new double[5];
                for (int[] w : T5_WINDOWS) {
                    T5Pass p = T5.forwardWindow(m, w);
                    boolean normed = state == CriterionOptions.FinalState.NORMED;
                    for (int l = 0; l + 3 <= 5; l++) {
                        float[] to = l + 3 < 5 ? p.encoderSelf.get(l + 3).in : normed ? p.encoderOut : p.encoderLast;
                        encoder[l] += distance(p.encoderSelf.get(l).in, to, p.srcLen, dim, tokens) / T5_WINDOWS.size();
                    }
                    for (int l = 0; l + 2 <= 5; l++) {
                        float[] to = l + 2 < 5 ? p.decoderSelf.get(l + 2).in : normed ? p.decoderOut : p.decoderLast;
                        decoder[l] += distance(p.decoderSelf.get(l).in, to, p.tgtLen, dim, tokens) / T5_WINDOWS.size();
                    }
                }
                for (int l = 0; l < 5; l++) {
                    assertEquals(l + 3 <= 5 ? encoder[l] : Double.POSITIVE_INFINITY, s.encoder()[l], 1e-9, "encoder layer " + l);
                    assertEquals(l + 2 <= 5 ? decoder[l] : Double.POSITIVE_INFINITY, s.decoder()[l], 1e-9, "decoder layer " + l);
                }
                assertEquals(0, s.decoder()[1], 1e-6, "a pass-through block is at distance 0");
                EncoderDecoderPlan plan = new EncoderDecoderTarget(0, 0, 0, OptionalInt.of(2), OptionalInt.of(3)).plan(m.config(), EncoderDecoderScores.magnitude(m), s);
                boolean[] kept = new boolean[5];
                for (int l = 0; l < 5; l++) kept[l] = plan.decoder().get(l).kept();
                assertArrayEquals(new boolean[]{true, false, false, true, true}, kept, "the block from the lowest start goes whole");
                int start = 0;
                for (int l = 1; l + 3 <= 5; l++) if (s.encoder()[l] < s.encoder()[start]) start = l;
                for (int l = 0; l < 5; l++) assertEquals(l < start || l >= start + 3, plan.encoder().get(l).kept(), "encoder layer " + l);
            }
        }
        assertThrows(ShearsException.class, () -> EncoderDecoderLayerScores.angular(m, T5_WINDOWS, 6, 1, CriterionOptions.DEFAULT, new SingleProcess()));
    }

    /** arccos(cos)/π at the last row, or averaged over the rows, written out. */
    private static double distance(float[] a, float[] b, int rows, int dim, CriterionOptions.AngularTokens tokens) {
        double sum = 0;
        int from = tokens == CriterionOptions.AngularTokens.LAST ? rows - 1 : 0;
        for (int t = from; t < rows; t++) {
            double dot = 0, na = 0, nb = 0;
            for (int j = 0; j < dim; j++) {
                dot += (double) a[t * dim + j] * b[t * dim + j];
                na += (double) a[t * dim + j] * a[t * dim + j];
                nb += (double) b[t * dim + j] * b[t * dim + j];
            }
            sum += Math.acos(Math.max(-1, Math.min(1, dot / Math.sqrt(na * nb)))) / Math.PI;
        }
        return sum / (rows - from);
    }
}
