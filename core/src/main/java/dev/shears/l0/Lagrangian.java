package dev.shears.l0;

import dev.shears.model.Axis;

/**
 * The constraint that drives the gates to the target shape (Sheared-LLaMA, after Wang et al. 2020), as
 * LLM-Shearing's {@code L0Module.lagrangian_regularization} computes it with a target model: for every
 * active axis, the mean over its rows (layers, or the one row of hidden and layer gates) of
 * {@code λ1·(ŝ_r − t_r) + λ2·(ŝ_r − t_r)²}, where {@code ŝ_r} is the row's expected sparsity
 * ({@link ExpectedSize#rowSparsity}) and {@code t_r} its target; the axes' terms are summed and added to
 * the LM loss. Taking the penalty row by row, before the mean, is what pushes every layer to the target
 * width (METHODS.md §2). logAlpha descends the sum; λ1 and λ2 (one pair per axis, initialised 0) ascend
 * it, by an explicit gradient-ascent step. The target ramps linearly from 0 to its final value over the
 * first {@code warmupFraction} of the steps ({@code get_target_sparsity} with {@code start_sparsity} 0).
 * λ is stored flat: λ1 of the gated axis in slot a at {@code 2a}, λ2 at {@code 2a + 1}.
 */
public final class Lagrangian {
    /**
     * One evaluation: per gated axis (indexed by {@link #slot}) the mean expected sparsity over its rows, the
     * mean ramped target, and the axis's term (the mean of its rows' penalties); and their sum.
     */
    public record Terms(double[] sparsity, double[] target, double[] value, double total, double ramp) {
    }

    private final L0Gates gates;
    private final long warmupSteps;
    private final double[] lambda = new double[2 * Axis.gatedAxes().size()];

    /**
     * @param warmupFraction share of {@code totalSteps} over which the target ramps up from 0
     */
    public Lagrangian(L0Gates gates, double warmupFraction, long totalSteps) {
        if (!(warmupFraction >= 0 && warmupFraction <= 1)) throw new IllegalArgumentException("warm-up fraction must be in [0, 1], got " + warmupFraction);
        this.gates = gates;
        this.warmupSteps = Math.round(warmupFraction * totalSteps);
    }

    /** The position of a gated axis in λ and in {@link Terms}: its place in {@link Axis#gatedAxes()}. */
    public static int slot(Axis axis) {
        int i = Axis.gatedAxes().indexOf(axis);
        if (i < 0) throw new IllegalArgumentException(axis + " carries no gates");
        return i;
    }

    /** λ, live: {@code [λ1, λ2]} per axis. */
    public double[] lambda() {
        return lambda;
    }

    /** The final target sparsity of an axis, averaged over its rows (0 on inactive axes). */
    public double finalTarget(Axis axis) {
        return gates.isActive(axis) ? ExpectedSize.targetSparsity(gates, axis) : 0;
    }

    /** The share of the final target in force at a step: {@code min(1, step / warmupSteps)}. */
    public double ramp(long step) {
        return warmupSteps == 0 ? 1 : Math.min(1.0, (double) step / warmupSteps);
    }

    /** The constraint terms at a step, for keep probabilities {@code keep}. */
    public Terms evaluate(double[] keep, long step) {
        int n = Axis.gatedAxes().size();
        double ramp = ramp(step);
        double[] s = new double[n], t = new double[n], v = new double[n];
        double total = 0;
        for (Axis a : Axis.gatedAxes()) {
            int i = slot(a);
            s[i] = ExpectedSize.sparsity(gates, keep, a);
            if (!gates.isActive(a)) continue;
            t[i] = ramp * ExpectedSize.targetSparsity(gates, a);
            int rows = ExpectedSize.countedRows(gates, a);
            for (int r = 0; r < gates.rows(a); r++) {
                if (gates.countedUnits(a, r) == 0) continue;
                double gap = ExpectedSize.rowSparsity(gates, keep, a, r) - ramp * ExpectedSize.rowTargetSparsity(gates, a, r);
                v[i] += (lambda[2 * i] * gap + lambda[2 * i + 1] * gap * gap) / rows;
            }
            total += v[i];
        }
        return new Terms(s, t, v, total, ramp);
    }

    /**
     * Gradients of {@code terms.total}, for the keep probabilities it was evaluated at: into {@code dLambda}
     * ({@code ∂/∂λ1 = mean_r (ŝ_r − t_r)}, {@code ∂/∂λ2 = mean_r (ŝ_r − t_r)²}) and into {@code dLogAlpha}
     * ({@code (λ1 + 2λ2·(ŝ_r − t_r)) / rows · ∂ŝ_r/∂logAlpha_i}, with {@code ∂ŝ_r/∂logAlpha_i = −p'_i / units_r}).
     * Both accumulate.
     *
     * @param keep         the keep probabilities {@code terms} was evaluated at
     * @param keepGradient dP(z > 0)/dlogAlpha of every gate
     */
    public void backward(Terms terms, double[] keep, double[] keepGradient, double[] dLogAlpha, double[] dLambda) {
        for (Axis a : Axis.gatedAxes()) {
            if (!gates.isActive(a)) continue;
            int i = slot(a);
            int rows = ExpectedSize.countedRows(gates, a);
            for (int r = 0; r < gates.rows(a); r++) {
                int units = gates.countedUnits(a, r);
                if (units == 0) continue;
                double gap = ExpectedSize.rowSparsity(gates, keep, a, r) - terms.ramp() * ExpectedSize.rowTargetSparsity(gates, a, r);
                dLambda[2 * i] += gap / rows;
                dLambda[2 * i + 1] += gap * gap / rows;
                double scale = (lambda[2 * i] + 2 * lambda[2 * i + 1] * gap) / rows;
                for (int u = 0; u < gates.units(a, r); u++) {
                    if (!gates.counts(a, r, u)) continue;
                    int k = gates.offset(a, r) + u;
                    dLogAlpha[k] -= scale * keepGradient[k] / units;
                }
            }
        }
    }
}
