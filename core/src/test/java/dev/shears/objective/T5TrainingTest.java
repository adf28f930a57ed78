package dev.shears.objective;

import dev.shears.SharedData;
import dev.shears.data.DataPreparer;
import dev.shears.data.HeldOutPart;
import dev.shears.data.PrepareOptions;
import dev.shears.data.Split;
import dev.shears.data.TokenDataset;
import dev.shears.format.TokenizerLoader;
import dev.shears.progress.Progress;
import dev.shears.seq2seq.T5Model;
import dev.shears.seq2seq.T5Weights;
import dev.shears.tokenizer.Tokenizer;
import dev.shears.train.AdamWConfig;
import dev.shears.train.Checkpoint;
import dev.shears.train.LearningRateSchedule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Seq2SeqTrainer} over {@link T5Training} on the real tiny random T5 and TinyStories text, denoised by UL2's mixture. */
class T5TrainingTest {
    static final int LENGTH = 64;
    static final Path MODEL = SharedData.require("models/t5-tiny-random");
    static Tokenizer tokenizer;
    static TokenDataset data;

    @BeforeAll
    static void prepare(@TempDir Path tmp) {
        tokenizer = TokenizerLoader.load(MODEL);
        data = DataPreparer.prepare(tokenizer, MODEL.toString(), List.of(SharedData.require("eval/tinystories/tinystories_val_head.txt")),
                tmp.resolve("tinystories"), PrepareOptions.DEFAULT, Progress.SILENT);
    }

    /** UL2's batcher over {@code split}, padded to the longest inputs and targets any of its denoisers makes of 64-token chunks. */
    static DenoisingBatcher batcher(Split split, long seed) {
        DenoiserMixture mixture = DenoiserMixture.ul2();
        return DenoisingBatcher.padToLongest(mixture, DenoiserTokens.of(tokenizer, mixture), ChunkSource.shuffled(data, split, LENGTH, seed), seed);
    }

    /**
     * The loss a run reports is measured on held-out batches Dynamic-UL2 never steered by, and neither set depends on the
     * training seed: two trainers of the same model whose training batches differ report the same losses, and their
     * evaluations (the steering half) differ from what they report.
     */
    @Test
    void theReportedLossIsOnHeldOutBatchesThatSteeredNothingAndDoNotDependOnTheSeed() {
        T5TrainConfig config = config(1, 1, 1, true, new double[0]);
        Seq2SeqTrainer a = trainer(config);
        Seq2SeqTrainer b = new Seq2SeqTrainer(new T5Training(T5Model.load(MODEL)), batcher(Split.TRAIN, 99), heldOut(HeldOutPart.STEERING),
                heldOut(HeldOutPart.FINAL), config);
        assertArrayEquals(a.heldOutLosses(), b.heldOutLosses());
        double[] steering = a.evaluate().losses();
        assertArrayEquals(steering, b.evaluate().losses());
        for (int d = 0; d < steering.length; d++) assertNotEquals(steering[d], a.heldOutLosses()[d], "denoiser " + d);
    }

    static Seq2SeqTrainer trainer(T5TrainConfig config) {
        return new Seq2SeqTrainer(new T5Training(T5Model.load(MODEL)), batcher(Split.TRAIN, 11), heldOut(HeldOutPart.STEERING),
                heldOut(HeldOutPart.FINAL), config);
    }

    /** UL2's batcher over one half of the held-out split, as a run draws it whatever its seed. */
    static DenoisingBatcher heldOut(HeldOutPart part) {
        DenoiserMixture mixture = DenoiserMixture.ul2();
        return DenoisingBatcher.padToLongest(mixture, DenoiserTokens.of(tokenizer, mixture), ChunkSource.heldOut(data, part, LENGTH), 12);
    }

    static T5TrainConfig config(int steps, int microBatches, int evalInterval, boolean dynamic, double[] references) {
        return config(3e-3, steps, microBatches, evalInterval, dynamic, references);
    }

    static T5TrainConfig config(double lr, int steps, int microBatches, int evalInterval, boolean dynamic, double[] references) {
        LearningRateSchedule schedule = new LearningRateSchedule(lr, lr / 10, 2, steps, LearningRateSchedule.Decay.COSINE);
        return new T5TrainConfig(4, microBatches, schedule, AdamWConfig.DEFAULT, 1.0, evalInterval, 2, dynamic, references, 0, 1);
    }

    static double mean(double[] xs) {
        double s = 0;
        for (double x : xs) s += x;
        return s / xs.length;
    }

    @Test
    void heldOutLossFallsOverAFewSteps() {
        int steps = 30;
        Seq2SeqTrainer trainer = trainer(config(3e-2, steps, 1, 0, false, new double[0]));
        double before = mean(trainer.heldOutLosses());
        double firstLoss = trainer.step().loss();
        double lastLoss = firstLoss;
        for (int s = 1; s < steps; s++) lastLoss = trainer.step().loss();
        double after = mean(trainer.heldOutLosses());
        assertEquals(Math.log(tokenizer.vocabSize()), before, 0.1, "a T5 initialised near zero starts at ln(V)");
        assertTrue(after < before - 0.7, "held-out loss " + before + " → " + after);
        assertTrue(lastLoss < firstLoss - 0.7, "training loss " + firstLoss + " → " + lastLoss);
    }

    /** One AdamW step of every T5 tensor against torch.optim.AdamW's formula in double, for a decayed matrix and an undecayed norm. */
    @Test
    void oneAdamWStepEqualsTheHandComputation() {
        T5Model model = T5Model.load(MODEL);
        AdamWConfig c = new AdamWConfig(0.9, 0.95, 1e-8, 0.1);
        T5AdamW adam = new T5AdamW(model.config(), c);
        T5Weights grads = T5Weights.zeros(model.config());
        Random r = new Random(5);
        List<float[]> g = T5AdamW.tensors(model.config(), grads);
        for (float[] t : g) for (int i = 0; i < t.length; i++) t[i] = (float) r.nextGaussian();
        float[] gradShared = grads.shared().clone(), gradNorm = grads.encoderNorm().clone();
        float[] shared = model.weights().shared().clone(), norm = model.weights().encoderNorm().clone();
        double lr = 1e-2;
        float scale = 0.5f;
        adam.update(model.weights(), grads, lr, scale);
        assertHand(shared, gradShared, scale, lr, c, true, model.weights().shared());
        assertHand(norm, gradNorm, scale, lr, c, false, model.weights().encoderNorm());
        for (float[] t : g) for (float x : t) assertEquals(0f, x, "gradients cleared for the next step");
        assertEquals(1, adam.step());
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
    void dynamicUl2MovesWeightTowardTheDenoiserWithTheHighestExcessLoss() {
        double[] losses = trainer(config(1, 1, 1, false, new double[0])).evaluate().losses();
        int lagging = 3;
        double[] references = losses.clone();
        references[lagging] -= 1.0; // denoiser 3 is a full nat above where it should be, the others exactly there
        Seq2SeqTrainer trainer = trainer(config(1, 1, 1, true, references));
        double[] before = trainer.batcher().weights();
        Seq2SeqTrainer.Evaluation e = trainer.evaluate();
        assertArrayEquals(losses, e.losses(), 0.0, "held-out batches are a fixed draw");
        double total = 0;
        for (double w : e.weights()) total += w;
        assertEquals(1.0, total, 1e-12);
        for (int d = 0; d < before.length; d++) {
            double ratio = e.weights()[d] / (before[d] / mean(before) / before.length);
            if (d == lagging) assertTrue(ratio > 2, "denoiser " + d + " gains: " + ratio);
            else assertTrue(ratio < 1, "denoiser " + d + " loses: " + ratio);
        }
    }

    @Test
    void aRunStoppedAndResumedEndsByteIdenticalToAnUninterruptedOne(@TempDir Path tmp) throws Exception {
        T5TrainConfig config = config(6, 2, 2, true, new double[0]);
        List<Seq2SeqTrainer.Evaluation> whole = new ArrayList<>();
        trainer(config).run(6, tmp.resolve("whole"), listener(whole));

        List<Seq2SeqTrainer.Evaluation> parts = new ArrayList<>();
        trainer(config).run(3, tmp.resolve("parts"), listener(parts));
        Seq2SeqTrainer resumed = trainer(config);
        Seq2SeqCheckpoint.restore(Checkpoint.latest(tmp.resolve("parts")).orElseThrow(), resumed);
        assertEquals(3, resumed.steps());
        resumed.run(6, tmp.resolve("parts"), listener(parts));

        assertEquals(4, whole.size(), "evaluations at steps 0, 2, 4, 6");
        for (int i = 0; i < whole.size(); i++) {
            assertArrayEquals(whole.get(i).weights(), parts.get(i).weights(), 0.0, "weights at evaluation " + i);
            assertArrayEquals(whole.get(i).losses(), parts.get(i).losses(), 0.0, "losses at evaluation " + i);
        }
        assertTrue(!java.util.Arrays.equals(whole.getFirst().weights(), whole.getLast().weights()), "Dynamic-UL2 moved the mixture");
        Path a = tmp.resolve("whole/checkpoints/step-00000006"), b = tmp.resolve("parts/checkpoints/step-00000006");
        for (String file : List.of("model.safetensors", "config.json", Checkpoint.OPTIMIZER, Checkpoint.STATE)) {
            assertArrayEquals(Files.readAllBytes(a.resolve(file)), Files.readAllBytes(b.resolve(file)), file);
        }
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
