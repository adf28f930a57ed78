package dev.shears.recipe;

import dev.shears.model.Activations;
import dev.shears.model.Flops;
import dev.shears.model.MaskSet;
import dev.shears.model.Model;
import dev.shears.model.Transformer;
import dev.shears.progress.Progress;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Prompt-processing throughput: full-sequence forward passes, timed, with the median reported. */
public final class ForwardBenchmark {
    private ForwardBenchmark() {
    }

    /**
     * @param tokensPerSecond median over iterations
     * @param gflops          achieved GFLOP/s at the median ({@link Flops#forwardPerToken})
     * @param secondsMedian   median seconds per forward pass
     * @param secondsAll      every timed pass
     */
    public record Result(double tokensPerSecond, double gflops, double secondsMedian, double[] secondsAll, int batch, int seqLen) {
    }

    public static Result run(Model model, int batch, int seqLen, int warmup, int iterations, Progress progress) {
        int[] tokens = new int[batch * seqLen];
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < tokens.length; i++) tokens[i] = random.nextInt(model.config().vocabSize());
        Activations acts = Activations.forInference(model.config(), batch, seqLen);
        progress.start("forward", warmup + iterations, "pass");
        for (int i = 0; i < warmup; i++) {
            Transformer.forward(model, tokens, batch, seqLen, acts, MaskSet.NONE);
            progress.advance(1);
        }
        double[] seconds = new double[iterations];
        for (int i = 0; i < iterations; i++) {
            long start = System.nanoTime();
            Transformer.forward(model, tokens, batch, seqLen, acts, MaskSet.NONE);
            seconds[i] = (System.nanoTime() - start) / 1e9;
            progress.advance(1);
        }
        progress.finish();
        double[] sorted = seconds.clone();
        Arrays.sort(sorted);
        double median = sorted[sorted.length / 2];
        double tps = tokens.length / median;
        return new Result(tps, tps * Flops.forwardPerToken(model.config(), seqLen) / 1e9, median, seconds, batch, seqLen);
    }
}
