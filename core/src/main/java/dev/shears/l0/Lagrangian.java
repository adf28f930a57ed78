package dev.shears.l0;

import dev.shears.model.Axis;

/**
 * The constraint that drives the gates to the target shape (Sheared-LLaMA, after Wang et al. 2020):
 * for every active axis, {@code λ1·(ŝ − t) + λ2·(ŝ − t)²}, added to the LM loss. logAlpha descends this
 * sum; λ1 and λ2 (initialised 0) ascend it, by an explicit gradient-ascent step. The target sparsity
 * {@code t} ramps linearly from 0 to its final value over the first {@code warmupFraction} of the steps.
 * λ is stored flat: λ1 of the gated axis in slot a at {@code 2a}, λ2 at {@code 2a + 1}.
 */
public final class Lagrangian {
    /** One evaluation: per gated axis (indexed by {@link #slot}) the expected sparsity, the ramped target and the term. */
    public record Terms(double[] sparsity, double[] target, double[] value, double total) {
    }

    private final L0Gates gates;
    private final double[] finalTarget;
    private final long warmupSteps;
    private final double[] lambda = new double[2 * Axis.gatedAxes().size()];

    /**
     * @param warmupFraction share of {@code totalSteps} over which the target ramps up from 0
     */
    public Lagrangian(L0Gates gates, double warmupFraction, long totalSteps) {
        if (!(warmupFraction >= 0 && warmupFraction <= 1)) throw new IllegalArgumentException("warm-up fraction must be in [0, 1], got " + warmupFraction);
        this.gates = gates;
        this.warmupSteps = Math.round(warmupFraction * totalSteps);
        this.finalTarget = new double[Axis.gatedAxes().size()];
        for (Axis a : Axis.gatedAxes()) finalTarget[slot(a)] = gates.isActive(a) ? ExpectedSize.targetSparsity(gates, a) : 0;
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

    /** The final target sparsity of an axis. */
    public double finalTarget(Axis axis) {
        return finalTarget[slot(axis)];
    }

    /** The ramped target at a step: {@code t · min(1, step / warmupSteps)}. */
    public double target(Axis axis, long step) {
        double t = finalTarget[slot(axis)];
        return warmupSteps == 0 ? t : t * Math.min(1.0, (double) step / warmupSteps);
    }

    /** The constraint terms at a step, for keep probabilities {@code keep}. */
    public Terms evaluate(double[] keep, long step) {
        int n = Axis.gatedAxes().size();
        double[] s = new double[n], t = new double[n], v = new double[n];
        double total = 0;
        for (Axis a : Axis.gatedAxes()) {
            int i = slot(a);
            s[i] = ExpectedSize.sparsity(gates, keep, a);
            t[i] = target(a, step);
            if (!gates.isActive(a)) continue;
            double gap = s[i] - t[i];
            v[i] = lambda[2 * i] * gap + lambda[2 * i + 1] * gap * gap;
            total += v[i];
        }
        return new Terms(s, t, v, total);
    }

    /**
     * Gradients of {@code terms.total}: into {@code dLogAlpha} (via {@code dŝ/dlogAlpha}) and into
     * {@code dLambda}: {@code ∂/∂λ1 = ŝ − t}, {@code ∂/∂λ2 = (ŝ − t)²}. Both accumulate.
     *
     * @param keepGradient dP(z > 0)/dlogAlpha of every gate
     */
    public void backward(Terms terms, double[] keepGradient, double[] dLogAlpha, double[] dLambda) {
        for (Axis a : Axis.gatedAxes()) {
            if (!gates.isActive(a)) continue;
            int i = slot(a);
            double gap = terms.sparsity()[i] - terms.target()[i];
            dLambda[2 * i] += gap;
            dLambda[2 * i + 1] += gap * gap;
            ExpectedSize.addSparsityGradient(gates, keepGradient, a, lambda[2 * i] + 2 * lambda[2 * i + 1] * gap, dLogAlpha);
        }
    }
}
