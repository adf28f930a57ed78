package dev.shears.train;

import dev.shears.ShearsException;

/**
 * AdamW hyper-parameters (Loshchilov &amp; Hutter 2019), as {@code torch.optim.AdamW}.
 *
 * @param beta1        first-moment decay
 * @param beta2        second-moment decay
 * @param epsilon      added to the root of the second moment
 * @param weightDecay  decoupled weight decay, applied to matrices only (norms and biases are never decayed)
 */
public record AdamWConfig(double beta1, double beta2, double epsilon, double weightDecay) {
    public static final AdamWConfig DEFAULT = new AdamWConfig(0.9, 0.95, 1e-8, 0.1);

    public AdamWConfig {
        if (!(beta1 >= 0 && beta1 < 1)) throw new ShearsException("beta1 must be in [0, 1), got " + beta1);
        if (!(beta2 >= 0 && beta2 < 1)) throw new ShearsException("beta2 must be in [0, 1), got " + beta2);
        if (!(epsilon > 0)) throw new ShearsException("epsilon must be positive, got " + epsilon);
        if (!(weightDecay >= 0)) throw new ShearsException("weightDecay must be ≥ 0, got " + weightDecay);
    }
}
