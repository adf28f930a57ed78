package dev.shears.train;

import dev.shears.ShearsException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Dynamic batch loading (Sheared-LLaMA, Xia et al. 2023): every evaluation the domain sampling
 * weights move toward the domains whose held-out loss lags their reference loss.
 * Published code: {@code w ← (1 − c)·softmax(log w + (ℓ − ℓ_ref)) + c/k}; with {@code clamp}, the
 * paper's {@code Δ = max(ℓ − ℓ_ref, 0)} replaces {@code ℓ − ℓ_ref}, so domains already below their
 * reference are not pushed down.
 *
 * <p>Where a domain's reference loss comes from, first match wins: {@code referenceLosses}, then
 * {@code scalingLaw} evaluated at the target size, then a scaling law fitted to {@code referenceModels},
 * then {@code referenceModel}'s measured loss, then the {@code preset}. The mixture at step 0 is
 * {@code startWeights}, else the preset's, else the data weights; it stays constant when
 * {@code enabled} is false (the published code's {@code update_type=constant}).
 *
 * @param enabled          update the weights at every evaluation
 * @param referenceLosses  reference loss per domain, by the domain's name (its folder name)
 * @param smoothing        c, the share spread uniformly over all domains
 * @param clamp            use the paper's clamped excess loss
 * @param referenceModel   a model whose held-out loss on each domain is the reference ("" for none)
 * @param preset           published start mixture and reference losses for RedPajama's domains
 *                         ({@link PublishedReference}: sheared-llama-370m, -1.3b, -2.7b; "" for none)
 * @param startWeights     the mixture at step 0 by domain name, every domain named (empty: the preset's, else the data weights)
 * @param scalingLaw       per domain the constants of {@code ℓ_ref = e + a·N^(−alpha)} ({@link ScalingLaw})
 * @param referenceModels  models of one family and several sizes (at least 3): their held-out losses
 *                         are fitted per domain by {@link ScalingLaw#fit} and evaluated at the target size
 * @param targetParameters N of the scaling laws (0: the trained model's parameter count; for shear, the target's)
 */
public record DynamicBatchLoading(boolean enabled, Map<String, Double> referenceLosses, double smoothing, boolean clamp, String referenceModel,
                                  String preset, Map<String, Double> startWeights, Map<String, ScalingLaw> scalingLaw, List<String> referenceModels,
                                  long targetParameters)
        implements TrainConfig.Group {
    public static final DynamicBatchLoading OFF = new DynamicBatchLoading(false, Map.of(), 1e-4, false, "");

    /** Updates toward the given references from the data weights, without presets or scaling laws. */
    public DynamicBatchLoading(boolean enabled, Map<String, Double> referenceLosses, double smoothing, boolean clamp, String referenceModel) {
        this(enabled, referenceLosses, smoothing, clamp, referenceModel, "", Map.of(), Map.of(), List.of(), 0);
    }

    public DynamicBatchLoading {
        referenceLosses = referenceLosses == null ? Map.of() : Map.copyOf(referenceLosses);
        referenceModel = referenceModel == null ? "" : referenceModel;
        preset = preset == null ? "" : preset;
        startWeights = startWeights == null ? Map.of() : Map.copyOf(startWeights);
        scalingLaw = scalingLaw == null ? Map.of() : Map.copyOf(scalingLaw);
        referenceModels = referenceModels == null ? List.of() : List.copyOf(referenceModels);
        if (!(smoothing >= 0 && smoothing < 1)) throw new ShearsException("dynamicBatchLoading.smoothing must be in [0, 1), got " + smoothing);
        if (!preset.isBlank() && PublishedReference.of(preset).isEmpty()) {
            throw new ShearsException("dynamicBatchLoading.preset '" + preset + "' is not one of " + PublishedReference.keys());
        }
        for (Map.Entry<String, Double> e : startWeights.entrySet()) {
            if (!(e.getValue() >= 0)) throw new ShearsException("dynamicBatchLoading.startWeights." + e.getKey() + " must be ≥ 0, got " + e.getValue());
        }
        if (!startWeights.isEmpty() && startWeights.values().stream().mapToDouble(Double::doubleValue).sum() <= 0) {
            throw new ShearsException("dynamicBatchLoading.startWeights sum to zero; give at least one domain a positive weight");
        }
        if (!referenceModels.isEmpty() && referenceModels.size() < 3) {
            throw new ShearsException("dynamicBatchLoading.referenceModels: a scaling law e + a·N^(−alpha) has 3 constants; give at least 3 models, got "
                    + referenceModels.size());
        }
        if (!referenceModels.isEmpty() && !referenceModel.isBlank()) {
            throw new ShearsException("give dynamicBatchLoading.referenceModel (one model's losses) or referenceModels (a scaling law fitted to several), not both");
        }
        if (targetParameters < 0) throw new ShearsException("dynamicBatchLoading.targetParameters must be ≥ 0 (0: the model's size), got " + targetParameters);
    }

    /** The published settings named by {@code preset}, if any. */
    public Optional<PublishedReference> published() {
        return PublishedReference.of(preset);
    }

    /** The same settings with the reference model paths rewritten (a pipeline resolves them against its folder). */
    public DynamicBatchLoading withPaths(UnaryOperator<String> resolve) {
        return new DynamicBatchLoading(enabled, referenceLosses, smoothing, clamp, referenceModel.isBlank() ? "" : resolve.apply(referenceModel), preset,
                startWeights, scalingLaw, referenceModels.stream().map(resolve).toList(), targetParameters);
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
