package dev.shears.train;

import dev.shears.ShearsException;
import java.util.Map;

/**
 * Dynamic batch loading (Sheared-LLaMA, Xia et al. 2023): every evaluation the domain sampling
 * weights move toward the domains whose held-out loss lags their reference loss.
 * Published code: {@code w ← (1 − c)·softmax(log w + (ℓ − ℓ_ref)) + c/k}; with {@code clamp}, the
 * paper's {@code Δ = max(ℓ − ℓ_ref, 0)} replaces {@code ℓ − ℓ_ref}, so domains already below their
 * reference are not pushed down.
 *
 * @param enabled         update the weights at every evaluation
 * @param referenceLosses reference loss per domain, by the domain's name (its folder name)
 * @param smoothing       c, the share spread uniformly over all domains
 * @param clamp           use the paper's clamped excess loss
 * @param referenceModel  a model whose held-out loss on each domain is the reference, for domains
 *                        without an entry in {@code referenceLosses} ("" for none)
 */
public record DynamicBatchLoading(boolean enabled, Map<String, Double> referenceLosses, double smoothing, boolean clamp, String referenceModel)
        implements TrainConfig.Group {
    public static final DynamicBatchLoading OFF = new DynamicBatchLoading(false, Map.of(), 1e-4, false, "");

    public DynamicBatchLoading {
        referenceLosses = referenceLosses == null ? Map.of() : Map.copyOf(referenceLosses);
        referenceModel = referenceModel == null ? "" : referenceModel;
        if (!(smoothing >= 0 && smoothing < 1)) throw new ShearsException("dynamicBatchLoading.smoothing must be in [0, 1), got " + smoothing);
    }

    /**
     * One update.
     *
     * @param weights   current weights (any positive scale)
     * @param losses    current held-out loss per domain (a NaN domain keeps its log-weight)
     * @param reference reference loss per domain
     * @return new weights summing to 1
     */
    public static double[] update(double[] weights, double[] losses, double[] reference, double smoothing, boolean clamp) {
        int k = weights.length;
        double total = 0;
        for (double w : weights) total += w;
        double[] logits = new double[k];
        double max = Double.NEGATIVE_INFINITY;
        for (int d = 0; d < k; d++) {
            double excess = Double.isNaN(losses[d]) ? 0 : losses[d] - reference[d];
            if (clamp) excess = Math.max(excess, 0);
            logits[d] = Math.log(Math.max(weights[d] / total, Double.MIN_NORMAL)) + excess;
            max = Math.max(max, logits[d]);
        }
        double sum = 0;
        for (int d = 0; d < k; d++) {
            logits[d] = Math.exp(logits[d] - max);
            sum += logits[d];
        }
        double[] out = new double[k];
        for (int d = 0; d < k; d++) out[d] = (1 - smoothing) * logits[d] / sum + smoothing / k;
        return out;
    }
}
