package dev.shears.benchmark;

import dev.shears.kernel.CrossEntropy;
import dev.shears.model.Activations;
import dev.shears.model.Flops;
import dev.shears.model.MaskSet;
import dev.shears.model.Model;
import dev.shears.model.ModelWeights;
import dev.shears.model.Transformer;
import dev.shears.progress.Progress;
import dev.shears.train.AdamW;
import dev.shears.train.AdamWConfig;
import dev.shears.train.GradientClipping;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Throughput of prompt processing (full-sequence forward passes) or of whole training steps
 * (forward, cross-entropy, backward, clipping, AdamW), timed after warm-up, median reported.
 */
public final class ThroughputBenchmark {
    /** What is timed. */
    public enum Mode {
        FORWARD, TRAIN
    }

    private ThroughputBenchmark() {
    }

    /**
     * @param tokensPerSecond median over iterations
     * @param gflops          achieved GFLOP/s at the median ({@link Flops#forwardPerToken}, three times that for training)
     * @param secondsMedian   median seconds per pass or step
     * @param secondsAll      every timed pass
     */
    public record Result(Mode mode, double tokensPerSecond, double gflops, double secondsMedian, double[] secondsAll, int batch, int seqLen) {
    }

    public static Result run(Model model, Mode mode, int batch, int seqLen, int warmup, int iterations, Progress progress) {
        int vocab = model.config().vocabSize();
        int[] tokens = new int[batch * seqLen];
        int[] targets = new int[tokens.length];
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < tokens.length; i++) tokens[i] = random.nextInt(vocab);
        for (int i = 0; i < tokens.length; i++) targets[i] = random.nextInt(vocab);
        boolean train = mode == Mode.TRAIN;
        Activations acts = train ? Activations.forTraining(model.config(), batch, seqLen) : Activations.forInference(model.config(), batch, seqLen);
        ModelWeights grads = train ? ModelWeights.zeros(model.config()) : null;
        AdamW adam = train ? new AdamW(model.config(), new AdamWConfig(0.9, 0.95, 1e-8, 0.1)) : null;
        Runnable pass = () -> {
            float[] logits = Transformer.forward(model, tokens, batch, seqLen, acts, MaskSet.NONE);
            if (!train) return;
            CrossEntropy.forwardBackward(logits, targets, tokens.length, vocab, acts.gradients().logits, 1f);
            Transformer.backward(model, tokens, acts, MaskSet.NONE, grads, MaskSet.NONE);
            double norm = GradientClipping.globalNorm(grads);
            adam.update(model.weights(), grads, 1e-5, GradientClipping.scale(norm, 1.0), true); // as Trainer.step
        };
        progress.start(train ? "train step" : "forward", warmup + iterations, train ? "step" : "pass");
        for (int i = 0; i < warmup; i++) {
            pass.run();
            progress.advance(1);
        }
        double[] seconds = new double[iterations];
        for (int i = 0; i < iterations; i++) {
            long start = System.nanoTime();
            pass.run();
            seconds[i] = (System.nanoTime() - start) / 1e9;
            progress.advance(1);
        }
        progress.finish();
        double[] sorted = seconds.clone();
        Arrays.sort(sorted);
        double median = sorted[sorted.length / 2];
        double tps = tokens.length / median;
        double flopsPerToken = train ? Flops.trainingPerToken(model.config(), seqLen) : Flops.forwardPerToken(model.config(), seqLen);
        return new Result(mode, tps, tps * flopsPerToken / 1e9, median, seconds, batch, seqLen);
    }
}
