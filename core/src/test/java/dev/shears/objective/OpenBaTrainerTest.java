package dev.shears.objective;

import dev.shears.ShearsException;
import dev.shears.seq2seq.OpenBaModel;
import dev.shears.train.AdamWConfig;
import dev.shears.train.Checkpoint;
import dev.shears.train.LearningRateSchedule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Seq2SeqTrainer} over the tiny OpenBA reference fixtures (vocabularies of 29 and 37 ids, 16 encoder and 12
 * decoder positions), denoising a made-up corpus: every chunk is a cyclic shift of the ids 2..{@value #CONTENT_END},
 * with EOS 1, pad 0 and the sentinels counted down from the top of the vocabulary, as T5's {@code <extra_id_i>}.
 */
class OpenBaTrainerTest {
    static final int CHUNK = 8;
    static final int CONTENT_END = 9;

    static Path fixture(String name) {
        try {
            return Path.of(OpenBaTrainerTest.class.getResource("/torchref-openba/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    /** A UL2-shaped mixture of spans that fits the fixtures' 16 / 12 positions with {@value #CHUNK}-token chunks. */
    static DenoiserMixture mixture() {
        return new DenoiserMixture(List.of(Denoiser.spans(Denoiser.Kind.R, 2, 0.25, ""), Denoiser.spans(Denoiser.Kind.X, 3, 0.5, ""),
                Denoiser.sequential(0.25, "")), new double[]{1, 1, 1}, SequentialLayout.SENTINEL);
    }

    static DenoisingBatcher batcher(int vocab, long seed) {
        int[] sentinels = new int[vocab - CONTENT_END - 1];
        for (int i = 0; i < sentinels.length; i++) sentinels[i] = vocab - 1 - i;
        DenoiserMixture mixture = mixture();
        DenoiserTokens tokens = new DenoiserTokens(1, 0, sentinels, new int[mixture.denoisers().size()][0]);
        ChunkSource source = new ChunkSource() {
            @Override
            public int length() {
                return CHUNK;
            }

            @Override
            public void read(long index, int[] out) {
                for (int j = 0; j < CHUNK; j++) out[j] = 2 + (int) ((index + j) % (CONTENT_END - 1));
            }
        };
        return DenoisingBatcher.padToLongest(mixture, tokens, source, seed);
    }

    static Seq2SeqTrainer trainer(String fixture, T5TrainConfig config) {
        OpenBaTraining model = OpenBaTraining.load(fixture(fixture));
        int vocab = model.model().vocabSize();
        return new Seq2SeqTrainer(model, batcher(vocab, 11), batcher(vocab, 12), batcher(vocab, 13), config);
    }

    static T5TrainConfig config(double lr, int steps, int microBatches, int evalInterval, boolean dynamic) {
        LearningRateSchedule schedule = new LearningRateSchedule(lr, lr / 10, 2, steps, LearningRateSchedule.Decay.COSINE);
        return new T5TrainConfig(4, microBatches, schedule, AdamWConfig.DEFAULT, 1.0, evalInterval, 2, dynamic, new double[0], 0, 1);
    }

    static double mean(double[] xs) {
        double s = 0;
        for (double x : xs) s += x;
        return s / xs.length;
    }

    @Test
    void heldOutLossFallsOverAFewSteps() {
        for (String fixture : List.of("openba_nobias_tied", "openba_bias_asym")) {
            int steps = 40;
            Seq2SeqTrainer trainer = trainer(fixture, config(1e-2, steps, 1, 0, false));
            double before = mean(trainer.heldOutLosses());
            double firstLoss = trainer.step().loss();
            double lastLoss = firstLoss;
            for (int s = 1; s < steps; s++) lastLoss = trainer.step().loss();
            double after = mean(trainer.heldOutLosses());
            assertTrue(after < before - 0.5, fixture + ": held-out loss " + before + " → " + after);
            assertTrue(lastLoss < firstLoss - 0.5, fixture + ": training loss " + firstLoss + " → " + lastLoss);
        }
    }

    /**
     * One AdamW step against torch.optim.AdamW's formula in double: the qkv matrix is decayed, the qkv bias and a
     * LayerNorm bias are not (Megatron-LM's no-weight-decay group).
     */
    @Test
    void oneAdamWStepEqualsTheHandComputation() {
        OpenBaTraining model = OpenBaTraining.load(fixture("openba_bias_asym"));
        AdamWConfig c = new AdamWConfig(0.9, 0.95, 1e-8, 0.1);
        TensorAdamW adam = new TensorAdamW(model::forEachWeight, c);
        List<float[]> params = TensorAdamW.tensors(model::forEachWeight), grads = TensorAdamW.tensors(model::forEachGradient);
        Random r = new Random(5);
        for (float[] t : grads) for (int i = 0; i < t.length; i++) t[i] = (float) r.nextGaussian();
        var self = model.model().weights().encoder().getFirst().self();
        int qkv = index(params, self.qkv()), qkvBias = index(params, self.qkvBias()), normBias = index(params, self.norm().bias());
        float[][] before = {params.get(qkv).clone(), params.get(qkvBias).clone(), params.get(normBias).clone()};
        float[][] g = {grads.get(qkv).clone(), grads.get(qkvBias).clone(), grads.get(normBias).clone()};
        double lr = 1e-2;
        float scale = 0.5f;
        adam.update(params, grads, lr, scale);
        assertHand(before[0], g[0], scale, lr, c, true, self.qkv());
        assertHand(before[1], g[1], scale, lr, c, false, self.qkvBias());
        assertHand(before[2], g[2], scale, lr, c, false, self.norm().bias());
        for (float[] t : grads) for (float x : t) assertEquals(0f, x, "gradients cleared for the next step");
        assertEquals(1, adam.step());
    }

    private static int index(List<float[]> tensors, float[] tensor) {
        for (int t = 0; t < tensors.size(); t++) if (tensors.get(t) == tensor) return t;
        throw new AssertionError("not a listed tensor");
    }

    private static void assertHand(float[] before, float[] grad, float scale, double lr, AdamWConfig c, boolean decayed, float[] after) {
        for (int i = 0; i < before.length; i++) {
            double gi = (double) grad[i] * scale;
            double m = (1 - c.beta1()) * gi, v = (1 - c.beta2()) * gi * gi;
            double mHat = m / (1 - c.beta1()), vHat = v / (1 - c.beta2());
            double p = before[i] * (decayed ? 1 - lr * c.weightDecay() : 1) - lr * mHat / (Math.sqrt(vHat) + c.epsilon());
            assertEquals(p, after[i], 1e-6 + 1e-6 * Math.abs(p), "element " + i);
        }
    }

    @Test
    void aRunStoppedAndResumedEndsByteIdenticalToAnUninterruptedOne(@TempDir Path tmp) throws Exception {
        String fixture = "openba_bias_asym";
        T5TrainConfig config = config(3e-3, 6, 2, 2, true);
        List<Seq2SeqTrainer.Evaluation> whole = new ArrayList<>();
        trainer(fixture, config).run(6, tmp.resolve("whole"), listener(whole));

        List<Seq2SeqTrainer.Evaluation> parts = new ArrayList<>();
        trainer(fixture, config).run(3, tmp.resolve("parts"), listener(parts));
        Seq2SeqTrainer resumed = trainer(fixture, config);
        Seq2SeqCheckpoint.restore(Checkpoint.latest(tmp.resolve("parts")).orElseThrow(), resumed);
        assertEquals(3, resumed.steps());
        resumed.run(6, tmp.resolve("parts"), listener(parts));

        assertEquals(4, whole.size(), "evaluations at steps 0, 2, 4, 6");
        for (int i = 0; i < whole.size(); i++) {
            assertArrayEquals(whole.get(i).weights(), parts.get(i).weights(), 0.0, "weights at evaluation " + i);
            assertArrayEquals(whole.get(i).losses(), parts.get(i).losses(), 0.0, "losses at evaluation " + i);
        }
        assertFalse(java.util.Arrays.equals(whole.getFirst().weights(), whole.getLast().weights()), "Dynamic-UL2 moved the mixture");
        Path a = tmp.resolve("whole/checkpoints/step-00000006"), b = tmp.resolve("parts/checkpoints/step-00000006");
        for (String file : List.of("model.safetensors", "config.json", Checkpoint.OPTIMIZER, Checkpoint.STATE)) {
            assertArrayEquals(Files.readAllBytes(a.resolve(file)), Files.readAllBytes(b.resolve(file)), file);
        }
        OpenBaModel saved = OpenBaModel.load(a);
        assertEquals(OpenBaModel.load(fixture(fixture)).config(), saved.config(), "the checkpoint is a loadable OpenBA folder");
    }

    @Test
    void aCheckpointOfAnotherShapeIsRefusedInOneLine(@TempDir Path tmp) {
        T5TrainConfig config = config(3e-3, 1, 1, 0, false);
        trainer("openba_bias_asym", config).run(1, tmp, listener(new ArrayList<>()));
        Seq2SeqTrainer other = trainer("openba_nonuniform", config);
        ShearsException e = assertThrows(ShearsException.class, () -> Seq2SeqCheckpoint.restore(Checkpoint.latest(tmp).orElseThrow(), other));
        assertTrue(e.getMessage().contains("the checkpoint's model is") && e.getMessage().lines().count() == 1, e.getMessage());
        assertEquals(0, other.steps(), "nothing restored");
    }

    private static Seq2SeqTrainer.Listener listener(List<Seq2SeqTrainer.Evaluation> evaluations) {
        return new Seq2SeqTrainer.Listener() {
            @Override
            public void step(Seq2SeqTrainer.StepResult result) {
                assertTrue(Double.isFinite(result.loss()) && result.tokens() > 0, "step " + result.step());
            }

            @Override
            public void evaluation(Seq2SeqTrainer.Evaluation evaluation) {
                evaluations.add(evaluation);
            }
        };
    }
}
