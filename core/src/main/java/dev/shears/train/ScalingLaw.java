package dev.shears.train;

import dev.shears.ShearsException;

/**
 * A domain's loss as a function of model size: {@code L(N) = e + a·N^(−alpha)}. Hoffmann et al.'s
 * (2022) {@code E + A/N^α + B/D^β} for models trained on the same number of tokens D (as the LLaMA2
 * series, all on 2T tokens), the data term folded into {@code e}: the kind of per-domain scaling
 * function the Sheared-LLaMA paper fits to the LLaMA2 series to predict the reference losses of
 * dynamic batch loading. N is the parameter count as Shears counts it
 * ({@code ModelConfig.parameterCount()}: embeddings included); constants fitted with another count do
 * not transfer.
 *
 * @param e     the loss approached as N grows (irreducible loss plus the fixed data term)
 * @param a     the size term's coefficient
 * @param alpha the size term's exponent
 */
public record ScalingLaw(double e, double a, double alpha) {
    /** Where the fit looks for alpha (the exponents Kaplan et al. and Hoffmann et al. report lie near 0.07–0.34). */
    static final double MIN_ALPHA = 1e-3, MAX_ALPHA = 4;

    public ScalingLaw {
        if (!Double.isFinite(e) || !Double.isFinite(a) || !(alpha > 0 && alpha < Double.POSITIVE_INFINITY)) {
            throw new ShearsException("a scaling law needs finite e and a and a positive alpha, got e=" + e + ", a=" + a + ", alpha=" + alpha);
        }
    }

    /** The predicted loss of a model of {@code parameters} parameters. */
    public double loss(double parameters) {
        return e + a * Math.pow(parameters, -alpha);
    }

    /**
     * Least-squares fit to losses measured at three or more sizes (three give an exact fit when one
     * exists). For each alpha the best e and a are a linear fit in {@code N^(−alpha)}; alpha is found by a
     * scan of {@code log alpha} over [{@value #MIN_ALPHA}, {@value #MAX_ALPHA}] refined by golden-section search.
     *
     * @throws ShearsException when fewer than three sizes differ, or the losses do not fall with size
     */
    public static ScalingLaw fit(double[] parameters, double[] losses) {
        if (parameters.length != losses.length) throw new IllegalArgumentException(parameters.length + " sizes, " + losses.length + " losses");
        long distinct = java.util.Arrays.stream(parameters).distinct().count();
        if (distinct < 3) throw new ShearsException("a scaling law needs losses at 3 or more different model sizes, got " + distinct);
        for (int i = 0; i < parameters.length; i++) {
            if (!(parameters[i] > 0) || !Double.isFinite(losses[i])) throw new ShearsException("cannot fit a scaling law to size " + parameters[i] + ", loss " + losses[i]);
        }
        double scale = 1; // sizes relative to their geometric mean keep N^(−alpha) near 1 for any alpha
        for (double n : parameters) scale *= Math.pow(n, 1.0 / parameters.length);
        double[] x = new double[parameters.length];
        for (int i = 0; i < x.length; i++) x[i] = parameters[i] / scale;
        int grid = 400;
        double lo = Math.log(MIN_ALPHA), hi = Math.log(MAX_ALPHA);
        int best = 0;
        double bestResidual = Double.POSITIVE_INFINITY;
        for (int g = 0; g <= grid; g++) {
            double r = residual(x, losses, Math.exp(lo + (hi - lo) * g / grid));
            if (r < bestResidual) {
                bestResidual = r;
                best = g;
            }
        }
        double a = lo + (hi - lo) * Math.max(0, best - 1) / grid, b = lo + (hi - lo) * Math.min(grid, best + 1) / grid;
        double phi = (Math.sqrt(5) - 1) / 2;
        for (int it = 0; it < 200 && b - a > 1e-13; it++) {
            double c = b - phi * (b - a), d = a + phi * (b - a);
            if (residual(x, losses, Math.exp(c)) <= residual(x, losses, Math.exp(d))) b = d;
            else a = c;
        }
        double alpha = Math.exp((a + b) / 2);
        double[] ea = linear(x, losses, alpha);
        if (!(ea[1] > 0)) {
            throw new ShearsException("the losses " + java.util.Arrays.toString(losses) + " at sizes " + java.util.Arrays.toString(parameters)
                    + " do not fall with size; no scaling law e + a·N^(−alpha) with a > 0 fits them");
        }
        return new ScalingLaw(ea[0], ea[1] * Math.pow(scale, alpha), alpha);
    }

    /** Sum of squared residuals of the best (e, a) for this alpha. */
    private static double residual(double[] x, double[] y, double alpha) {
        double[] ea = linear(x, y, alpha);
        double sum = 0;
        for (int i = 0; i < x.length; i++) {
            double r = y[i] - ea[0] - ea[1] * Math.pow(x[i], -alpha);
            sum += r * r;
        }
        return sum;
    }

    /** Least-squares e and a of {@code y = e + a·x^(−alpha)}. */
    private static double[] linear(double[] x, double[] y, double alpha) {
        int n = x.length;
        double mx = 0, my = 0;
        for (int i = 0; i < n; i++) {
            mx += Math.pow(x[i], -alpha) / n;
            my += y[i] / n;
        }
        double sxy = 0, sxx = 0;
        for (int i = 0; i < n; i++) {
            double dx = Math.pow(x[i], -alpha) - mx;
            sxy += dx * (y[i] - my);
            sxx += dx * dx;
        }
        double a = sxx > 0 ? sxy / sxx : 0;
        return new double[] {my - a * mx, a};
    }
}
