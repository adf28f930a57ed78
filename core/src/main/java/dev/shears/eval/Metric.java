package dev.shears.eval;

/**
 * One reported number, always with its name ({@code acc}, {@code acc_norm}, {@code word_perplexity}, …).
 *
 * @param stderr standard error of the mean, NaN where none is computed (perplexities)
 */
public record Metric(String name, double value, double stderr) {
    /** The mean with lm-eval's {@code mean_stderr}: sample standard deviation (n − 1) over √n. */
    static Metric mean(String name, double[] values) {
        int n = values.length;
        return new Metric(name, average(values), n > 1 ? sampleStddev(values) / Math.sqrt(n) : Double.NaN);
    }

    /** lm-eval's {@code mean}: {@code sum(arr) / len(arr)}, summed in order as CPython 3.11's {@code sum} of floats. */
    static double average(double[] xs) {
        double s = 0;
        for (double x : xs) s += x;
        return s / xs.length;
    }

    /** lm-eval's {@code sample_stddev}: {@code sqrt(sum((x − mean)²) / (n − 1))}. */
    static double sampleStddev(double[] xs) {
        double mu = average(xs);
        double ss = 0;
        for (double x : xs) ss += (x - mu) * (x - mu);
        return Math.sqrt(ss / (xs.length - 1));
    }
}
