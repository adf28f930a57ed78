package dev.shears.tensor;

import java.util.Random;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Finite-difference gradient checks: the scalar loss is accumulated in double, each sampled
 * coordinate is perturbed by ±eps and {@code (L(x+eps) − L(x−eps)) / 2eps} is compared with the
 * analytic gradient, {@code |num − ana| <= atol + rtol·max(|num|, |ana|)}.
 */
public final class GradCheck {
    private GradCheck() {
    }

    /** A random projection of an output: {@code loss = Σ weight_i · y_i}, in double. */
    public static double project(float[] y, float[] weight) {
        double s = 0;
        for (int i = 0; i < weight.length; i++) s += (double) y[i] * weight[i];
        return s;
    }

    public static float[] gaussian(Random r, int n, double std) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian() * std);
        return x;
    }

    /**
     * @param label    names the parameter in failure messages
     * @param param    perturbed in place (restored after)
     * @param analytic the analytic gradient of {@code loss} with respect to {@code param}
     * @param loss     recomputes the loss from the current parameter values
     * @param samples  coordinates to check (all when ≥ param.length)
     */
    public static void check(String label, float[] param, float[] analytic, Supplier<Double> loss, int samples,
                             double eps, double atol, double rtol) {
        Random r = new Random(label.hashCode());
        int n = param.length;
        int count = Math.min(samples, n);
        int[] indices = new int[count];
        for (int s = 0; s < count; s++) indices[s] = count == n ? s : r.nextInt(n);
        checkAt(label, param, analytic, loss, indices, eps, atol, rtol);
    }

    /** As {@link #check}, at the given coordinates. */
    public static void checkAt(String label, float[] param, float[] analytic, Supplier<Double> loss, int[] indices,
                               double eps, double atol, double rtol) {
        for (int i : indices) {
            float saved = param[i];
            param[i] = (float) (saved + eps);
            double plus = loss.get();
            param[i] = (float) (saved - eps);
            double minus = loss.get();
            param[i] = saved;
            double step = (double) (float) (saved + eps) - (double) (float) (saved - eps);
            double numeric = (plus - minus) / step;
            double diff = Math.abs(numeric - analytic[i]);
            if (!(diff <= atol + rtol * Math.max(Math.abs(numeric), Math.abs(analytic[i])))) {
                fail(String.format("%s[%d]: numeric %.8g, analytic %.8g, |diff| %.3e (atol %.1e, rtol %.1e)",
                        label, i, numeric, analytic[i], diff, atol, rtol));
            }
        }
    }
}
