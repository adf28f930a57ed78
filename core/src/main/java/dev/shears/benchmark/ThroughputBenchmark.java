package dev.shears.benchmark;

import dev.shears.dist.Collective;
import dev.shears.dist.SingleProcess;
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
import dev.shears.train.StepGradients;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Throughput of prompt processing (full-sequence forward passes) or of whole training steps
 * (forward, cross-entropy, backward, clipping, AdamW), timed after warm-up, median reported. A training
 * step may take several micro-batches, shared over the ranks of an MPI run as the trainer shares them
 * ({@link StepGradients}), so one command measures one process and N ranks alike.
 */
public final class ThroughputBenchmark {
    /** What is timed. */
    public enum Mode {
        FORWARD, TRAIN
    }

    private ThroughputBenchmark() {
    }

    /**
     * @param tokensPerSecond tokens of a whole pass or step (every micro-batch, over all ranks) per second, at the median
     * @param gflops          achieved GFLOP/s at the median ({@link Flops#forwardPerToken}, three times that for training)
     * @param secondsMedian   median seconds per pass or step
     * @param secondsAll      every timed pass
     */
    public record Result(Mode mode, double tokensPerSecond, double gflops, double secondsMedian, double[] secondsAll, int batch, int seqLen) {
    }

    /** As {@link #run(Model, Mode, int, int, int, int, int, Collective, Progress)} with one micro-batch in one process. */
    public static Result run(Model model, Mode mode, int batch, int seqLen, int warmup, int iterations, Progress progress) {
        return run(model, mode, batch, seqLen, 1, warmup, iterations, new SingleProcess(), progress);
    }

    /**
     * @param accumulation micro-batches of {@code batch} sequences per training step, over all ranks (1 for forward)
     * @param collective   the ranks sharing each step's micro-batches; every rank calls this alike and times its own steps,
     *                     which the gradient exchange keeps in step with one another
     */
    public static Result run(Model model, Mode mode, int batch, int seqLen, int accumulation, int warmup, int iterations, Collective collective,
                             Progress progress) {
        boolean train = mode == Mode.TRAIN;
        if (!train && (accumulation != 1 || collective.size() != 1)) throw new IllegalArgumentException("forward passes are timed in one process, one batch each");
        int vocab = model.config().vocabSize();
        int[] tokens = new int[batch * seqLen];
        int[] targets = new int[tokens.length];
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < tokens.length; i++) tokens[i] = random.nextInt(vocab);
        for (int i = 0; i < tokens.length; i++) targets[i] = random.nextInt(vocab);
        Activations acts = train ? Activations.forTraining(model.config(), batch, seqLen) : Activations.forInference(model.config(), batch, seqLen);
        ModelWeights grads = train ? ModelWeights.zeros(model.config()) : null;
        StepGradients gradients = train ? new StepGradients(model.config(), grads, accumulation, collective) : null;
        AdamW adam = train ? new AdamW(model.config(), new AdamWConfig(0.9, 0.95, 1e-8, 0.1)) : null;
        Runnable pass = () -> {
            if (!train) {
                Transformer.forward(model, tokens, batch, seqLen, acts, MaskSet.NONE);
                return;
            }
            for (int micro = gradients.first(); micro < gradients.end(); micro++) { // the same tokens each time: only the time counts
                ModelWeights into = gradients.into(micro);
                float[] logits = Transformer.forward(model, tokens, batch, seqLen, acts, MaskSet.NONE);
                CrossEntropy.forwardBackward(logits, targets, tokens.length, vocab, acts.gradients().logits, 1f / accumulation);
                Transformer.backward(model, tokens, acts, MaskSet.NONE, into, MaskSet.NONE);
                gradients.done(micro, into);
            }
            gradients.reduce();
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
        double tps = (double) accumulation * tokens.length / median;
        double flopsPerToken = train ? Flops.trainingPerToken(model.config(), seqLen) : Flops.forwardPerToken(model.config(), seqLen);
        return new Result(mode, tps, tps * flopsPerToken / 1e9, median, seconds, batch, seqLen);
    }
}
