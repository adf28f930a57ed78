package dev.shears.eval;

/**
 * One reported number, always with its name ({@code acc}, {@code acc_norm}, {@code word_perplexity}, …).
 *
 * @param stderr standard error of the mean, NaN where none is computed (perplexities)
 */
public record Metric(String name, double value, double stderr) {
    /** lm-eval {@code mean_stderr}: sample standard deviation (n − 1) over √n. */
    static Metric mean(String name, double[] values) {
        int n = values.length;
        double mean = 0;
        for (double v : values) mean += v;
        mean /= n;
        double ss = 0;
        for (double v : values) ss += (v - mean) * (v - mean);
        double stderr = n > 1 ? Math.sqrt(ss / (n - 1)) / Math.sqrt(n) : Double.NaN;
        return new Metric(name, mean, stderr);
    }
}
