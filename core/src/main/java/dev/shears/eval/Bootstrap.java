package dev.shears.eval;

import java.util.function.ToDoubleFunction;
import java.util.stream.IntStream;

/**
 * lm-evaluation-harness's bootstrap standard error ({@code bootstrap_stderr} in lm_eval/api/metrics.py at
 * 4e7e0d47f), bit for bit as CPython 3.11 computes it: {@code iters / 1000} chunks, chunk {@code i} drawing
 * 1,000 resamples of {@code xs} from {@code random.Random(i)} with {@code rnd.choices(xs, k=len(xs))} (each
 * draw {@code xs[floor(random() * n)]}), the statistic of each resample, then the sample standard deviation
 * ({@link Metric#sampleStddev}) of the {@code iters} values in chunk order. Sums are sequential, as CPython
 * 3.11's {@code sum} of floats (3.12 compensates, which can move the last digits). The chunks run in
 * parallel; the result does not depend on the thread count.
 */
final class Bootstrap {
    /** lm-eval's {@code bootstrap_iters} default. */
    static final int ITERS = 100_000;

    private Bootstrap() {
    }

    /** The bootstrap standard error of lm-eval's {@code perplexity} aggregation, {@code exp(−mean(lls))}. */
    static double perplexityStderr(double[] logLikelihoods) {
        return stderr(logLikelihoods, ITERS, xs -> Math.exp(-Metric.average(xs)));
    }

    static double stderr(double[] xs, int iters, ToDoubleFunction<double[]> statistic) {
        if (xs.length < 2) return Double.NaN;
        int chunk = Math.min(1000, iters);
        double n = xs.length;
        double[][] chunks = IntStream.range(0, iters / chunk).parallel().mapToObj(i -> {
            PyRandom rnd = new PyRandom(i);
            double[] values = new double[chunk];
            double[] resample = new double[xs.length];
            for (int k = 0; k < chunk; k++) {
                for (int j = 0; j < resample.length; j++) resample[j] = xs[(int) Math.floor(rnd.random() * n)];
                values[k] = statistic.applyAsDouble(resample);
            }
            return values;
        }).toArray(double[][]::new);
        double[] all = new double[chunks.length * chunk];
        for (int i = 0; i < chunks.length; i++) System.arraycopy(chunks[i], 0, all, i * chunk, chunk);
        return Metric.sampleStddev(all);
    }
}
