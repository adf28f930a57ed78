package dev.shears.objective;

import dev.shears.ShearsException;
import dev.shears.train.DynamicBatchLoading;

/**
 * Dynamic-UL2 (OpenBA-V2, Qiao et al. 2024): the mixture over denoisers is re-weighted during training by
 * the rule dynamic batch loading uses over data domains (Sheared-LLaMA, Xia et al. 2023), with one
 * reference loss per denoiser in place of one per domain. Every evaluation, with ℓ each denoiser's
 * current loss on held-out examples ({@link #meanLosses}):
 * published code {@code w ← (1 − c)·softmax(log w + (ℓ − ℓ_ref)) + c/k}; with {@code clamp}, the paper's
 * {@code Δ = max(ℓ − ℓ_ref, 0)} in place of {@code ℓ − ℓ_ref}. The arithmetic is
 * {@link DynamicBatchLoading#update}'s, called as is. A denoiser's reference is the loss the compressed
 * model should reach on it, e.g. the uncompressed model's loss on the same held-out examples.
 *
 * <p>OpenBA-V2's published code (OpenNLG/OpenBA-v2 training/megatron/training.py
 * {@code update_proportion}, {@code evaluate_dynamic_batch_loading}) is this rule with c = 1e-4, no clamp,
 * its {@code --target_loss} as the references ({@link #openBaV2()}) and
 * {@link DenoiserMixture#openBaV2()}'s start mixture; every evaluation it measures each denoiser's loss
 * on the validation data with that denoiser alone (one-hot proportions), which here is a held-out
 * {@link DenoisingBatcher} with one-hot {@link DenoisingBatcher#weights(double[])}, or the examples of one
 * mixed held-out pass grouped by {@link #meanLosses}. Deliberate difference: it computes the softmax in
 * float32 (torch's default for a list of floats) and renormalises in float64; here every step is float64.
 *
 * @param referenceLosses ℓ_ref per denoiser, in the mixture's order
 * @param smoothing       c, the share spread uniformly over the denoisers, in [0, 1)
 * @param clamp           use the paper's clamped excess loss
 */
public record DynamicUl2(double[] referenceLosses, double smoothing, boolean clamp) {
    /** The published code's c. */
    public static final double SMOOTHING = 1e-4;

    public DynamicUl2 {
        referenceLosses = referenceLosses.clone();
        if (referenceLosses.length == 0) throw new ShearsException("Dynamic-UL2 needs a reference loss per denoiser, got none");
        for (int d = 0; d < referenceLosses.length; d++) {
            if (!Double.isFinite(referenceLosses[d])) throw new ShearsException("Dynamic-UL2 reference loss " + d + " must be finite, got " + referenceLosses[d]);
        }
        if (!(smoothing >= 0 && smoothing < 1)) throw new ShearsException("Dynamic-UL2 smoothing must be in [0, 1), got " + smoothing);
    }

    @Override
    public double[] referenceLosses() {
        return referenceLosses.clone();
    }

    /**
     * OpenBA-V2's reference losses for OpenBA's seven denoisers, in {@link DenoiserMixture#openBa()}'s order
     * ({@code --target_loss} in OpenNLG/OpenBA-v2 training/megatron/arguments.py), with c = 1e-4.
     */
    public static DynamicUl2 openBaV2() {
        return published(new double[] {1.154, 1.594, 2.106, 1.298, 1.723, 2.151, 2.151});
    }

    /** The published rule with the published c = 1e-4. */
    public static DynamicUl2 published(double[] referenceLosses) {
        return new DynamicUl2(referenceLosses, SMOOTHING, false);
    }

    /**
     * One update.
     *
     * @param weights current weights (any positive scale)
     * @param losses  current loss per denoiser (NaN: not measured, its log-weight stays)
     * @return new weights summing to 1
     */
    public double[] update(double[] weights, double[] losses) {
        if (weights.length != referenceLosses.length || losses.length != referenceLosses.length) {
            throw new ShearsException("Dynamic-UL2 has " + referenceLosses.length + " reference losses but got " + weights.length + " weights and "
                    + losses.length + " losses");
        }
        return DynamicBatchLoading.update(weights, losses, referenceLosses, smoothing, clamp);
    }

    /**
     * Each denoiser's loss over a set of examples: the summed token losses of its examples over their
     * token count (NaN for a denoiser with no tokens).
     *
     * @param denoisers [examples] the denoiser of each example ({@link DenoisingBatcher.Batch#denoisers})
     * @param lossSums  [examples] summed negative log-likelihood of each example's target tokens
     * @param tokens    [examples] scored target tokens of each example
     * @param count     denoisers in the mixture
     */
    public static double[] meanLosses(int[] denoisers, double[] lossSums, int[] tokens, int count) {
        if (denoisers.length != lossSums.length || denoisers.length != tokens.length) {
            throw new IllegalArgumentException(denoisers.length + " denoisers, " + lossSums.length + " losses, " + tokens.length + " token counts");
        }
        double[] sum = new double[count];
        long[] n = new long[count];
        for (int e = 0; e < denoisers.length; e++) {
            sum[denoisers[e]] += lossSums[e];
            n[denoisers[e]] += tokens[e];
        }
        double[] mean = new double[count];
        for (int d = 0; d < count; d++) mean[d] = n[d] == 0 ? Double.NaN : sum[d] / n[d];
        return mean;
    }
}
