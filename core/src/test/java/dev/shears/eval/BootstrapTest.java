package dev.shears.eval;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The bootstrap standard error against CPython. Expected values from Debian's python3 3.11.2 running lm-eval
 * 4e7e0d47f's bootstrap_stderr without its process pool (the pool only maps the same chunks in order):
 * <pre>
 * def mean(arr): return sum(arr) / len(arr)
 * def perplexity(items): return math.exp(-mean(items))
 * def sample_stddev(arr): mu = mean(arr); return math.sqrt(sum([(x - mu) ** 2 for x in arr]) / (len(arr) - 1))
 * res = []; chunk = min(1000, iters)
 * for i in range(iters // chunk):
 *     rnd = random.Random(); rnd.seed(i)
 *     for _ in range(chunk): res.append(perplexity(rnd.choices(xs, k=len(xs))))
 * sample_stddev(res)
 * xs = [-(i % 7) * 0.37 - 0.11 * (i % 3) for i in range(40)]
 * </pre>
 */
class BootstrapTest {
    private static double[] xs() {
        double[] xs = new double[40];
        for (int i = 0; i < xs.length; i++) xs[i] = -(i % 7) * 0.37 - 0.11 * (i % 3);
        return xs;
    }

    @Test
    void perplexityStderrEqualsLmEvalsBitForBit() {
        assertEquals(3.2252162427004807, Math.exp(-Metric.average(xs())));
        assertEquals(0.3755560695557107, Bootstrap.perplexityStderr(xs()));
        // 2,500 iterations are two chunks of 1,000: lm-eval drops the remainder
        assertEquals(0.38916869548981176, Bootstrap.stderr(xs(), 2500, x -> Math.exp(-Metric.average(x))));
    }

    @Test
    void fewerThanTwoValuesHaveNoStderr() {
        assertEquals(Double.NaN, Bootstrap.perplexityStderr(new double[]{-1.5}));
    }
}
