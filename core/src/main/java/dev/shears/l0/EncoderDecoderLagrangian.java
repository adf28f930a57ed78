package dev.shears.l0;

import dev.shears.l0.EncoderDecoderGates.Axis;
import dev.shears.l0.EncoderDecoderGates.Row;

/**
 * The constraint that drives an encoder–decoder's gates to its target shape: {@link Lagrangian}'s rule on the rows of
 * {@link EncoderDecoderGates}. For every active axis, the mean over its rows (each layer of each stack; the one row of
 * hidden and of each stack's layer gates) of {@code λ1·(ŝ_r − t_r) + λ2·(ŝ_r − t_r)²}, with {@code ŝ_r} the row's
 * expected sparsity ({@link EncoderDecoderSize#rowSparsity}) and {@code t_r} its target ramped linearly from 0 over the
 * first {@code warmupFraction} of the steps; the axes' terms are summed. logAlpha descends it, λ (one pair per axis,
 * initialised 0, λ1 of axis a at {@code 2a}, λ2 at {@code 2a + 1}) ascends it.
 */
public final class EncoderDecoderLagrangian {
    /** One evaluation: per axis (by ordinal) the mean expected sparsity, the mean ramped target and the term; their sum. */
    public record Terms(double[] sparsity, double[] target, double[] value, double total, double ramp) {
    }

    private final EncoderDecoderGates gates;
    private final long warmupSteps;
    private final double[] lambda = new double[2 * Axis.values().length];

    public EncoderDecoderLagrangian(EncoderDecoderGates gates, double warmupFraction, long totalSteps) {
        if (!(warmupFraction >= 0 && warmupFraction <= 1)) throw new IllegalArgumentException("warm-up fraction must be in [0, 1], got " + warmupFraction);
        this.gates = gates;
        this.warmupSteps = Math.round(warmupFraction * totalSteps);
    }

    /** λ, live. */
    public double[] lambda() {
        return lambda;
    }

    /** The share of the final target in force at a step: {@code min(1, step / warmupSteps)}. */
    public double ramp(long step) {
        return warmupSteps == 0 ? 1 : Math.min(1.0, (double) step / warmupSteps);
    }

    /** The constraint terms at a step, for keep probabilities {@code keep}. */
    public Terms evaluate(double[] keep, long step) {
        int n = Axis.values().length;
        double ramp = ramp(step);
        double[] s = new double[n], t = new double[n], v = new double[n];
        double total = 0;
        for (Axis a : Axis.values()) {
            int i = a.ordinal();
            s[i] = EncoderDecoderSize.sparsity(gates, keep, a);
            if (!gates.isActive(a)) continue;
            t[i] = ramp * EncoderDecoderSize.targetSparsity(gates, a);
            var rows = gates.rows(a);
            for (Row r : rows) {
                double gap = EncoderDecoderSize.rowSparsity(keep, r) - ramp * r.targetSparsity();
                v[i] += (lambda[2 * i] * gap + lambda[2 * i + 1] * gap * gap) / rows.size();
            }
            total += v[i];
        }
        return new Terms(s, t, v, total, ramp);
    }

    /**
     * Gradients of {@code terms.total}: into {@code dLambda} ({@code mean_r (ŝ_r − t_r)}, {@code mean_r (ŝ_r − t_r)²}) and into
     * {@code dLogAlpha} ({@code (λ1 + 2λ2·(ŝ_r − t_r)) / rows · (−p'_i / units_r)}). Both accumulate.
     *
     * @param keepGradient dP(z > 0)/dlogAlpha of every gate
     */
    public void backward(Terms terms, double[] keep, double[] keepGradient, double[] dLogAlpha, double[] dLambda) {
        for (Axis a : Axis.values()) {
            if (!gates.isActive(a)) continue;
            int i = a.ordinal();
            var rows = gates.rows(a);
            for (Row r : rows) {
                double gap = EncoderDecoderSize.rowSparsity(keep, r) - terms.ramp() * r.targetSparsity();
                dLambda[2 * i] += gap / rows.size();
                dLambda[2 * i + 1] += gap * gap / rows.size();
                double scale = (lambda[2 * i] + 2 * lambda[2 * i + 1] * gap) / rows.size();
                for (int k = r.offset(); k < r.offset() + r.units(); k++) dLogAlpha[k] -= scale * keepGradient[k] / r.units();
            }
        }
    }
}
