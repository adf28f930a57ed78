package dev.shears.objective;

import dev.shears.ShearsException;
import dev.shears.objective.Denoiser.Kind;

import java.util.List;

/**
 * A mixture of denoisers (UL2's "MoD"): each example draws its denoiser with probability proportional
 * to its weight. The weights here are the mixture at step 0; Dynamic-UL2 ({@link DynamicUl2}) moves
 * them during training.
 *
 * <p>The published mixtures:
 * <ul>
 * <li>{@link #ul2()}: the seven denoisers of the UL2 paper (§3.1.2, Table 1 of arXiv 2205.05131):
 * R (μ=3, r=0.15), (μ=8, r=0.15); S (r=0.25, the paper's μ = L/4); X (μ=3, r=0.5), (μ=8, r=0.5),
 * (μ=64, r=0.15), (μ=64, r=0.5); mode tokens {@code [NLU]} for R, {@code [S2S]} for S, {@code [NLG]}
 * for X (the google/ul2 model card; the public reproductions of the paper's appendix code). Weights: S
 * 0.2, R and X 0.4 each, split equally within the kind: the rates those reproductions pass to the
 * appendix's {@code ul2_objective}, citing the paper's §4.5; the appendix code itself samples its tasks
 * uniformly when no rates are given. The appendix's S task is T5's {@code prefix_lm}, whose targets are half the
 * example on average ({@code Denoiser.sequential(0.5, …)}); this preset takes the paper's r = 0.25.
 * Layout {@link SequentialLayout#PLAIN}.</li>
 * <li>{@link #openBa()}: OpenBA's {@code ORIGIN_UL2} table (OpenNLG/OpenBA
 * training/megatron/data/t5_dataset.py), the same seven settings, drawn uniformly
 * ({@code np_rng.integers(1, 8)}), with the mode tokens its tokenizer adds: {@code <R>}, {@code <S>},
 * {@code <X>} (training/megatron/tokenizer/tokenizer.py). Its S entry has {@code noise_density 0.25}
 * as the upper end of a uniform target length, i.e. mean share 0.125 here; layout
 * {@link SequentialLayout#SENTINEL}.</li>
 * <li>{@link #openBaV2()}: OpenBA's denoisers with OpenBA-V2's Dynamic-UL2 start mixture (OpenNLG/OpenBA-v2
 * training/megatron/arguments.py {@code --dynamic_prop}: 0.02, 0.02, 0.8 for S, 0.1 for X(μ=3, r=0.5),
 * 0.02 for the other X), drawn as {@code np_rng.choice(…, p=current_prop)} in its t5_dataset.py.</li>
 * <li>{@link #t5()}: T5's span corruption alone (μ=3, r=0.15, no mode token).</li>
 * </ul>
 *
 * @param denoisers       at least one
 * @param weights         [denoisers], ≥ 0, not all 0 (need not sum to 1)
 * @param sequentialLayout how S examples are laid out
 */
public record DenoiserMixture(List<Denoiser> denoisers, double[] weights, SequentialLayout sequentialLayout) {
    public DenoiserMixture {
        denoisers = denoisers == null ? List.of() : List.copyOf(denoisers);
        if (denoisers.isEmpty()) throw new ShearsException("a denoiser mixture needs at least one denoiser");
        if (weights == null || weights.length != denoisers.size()) {
            throw new ShearsException("a denoiser mixture of " + denoisers.size() + " denoisers needs " + denoisers.size() + " weights, got "
                    + (weights == null ? 0 : weights.length));
        }
        weights = weights.clone();
        double sum = 0;
        for (int d = 0; d < weights.length; d++) {
            if (!(weights[d] >= 0 && Double.isFinite(weights[d]))) {
                throw new ShearsException("denoiser mixture weight " + d + " (" + denoisers.get(d).label() + ") must be finite and ≥ 0, got " + weights[d]);
            }
            sum += weights[d];
        }
        if (sum <= 0) throw new ShearsException("denoiser mixture weights sum to zero; give at least one denoiser a positive weight");
        if (sequentialLayout == null) throw new ShearsException("denoiser mixture: sequentialLayout must be PLAIN or SENTINEL");
    }

    /** The UL2 paper's seven denoisers with UL2's mode tokens (see the class comment). */
    public static DenoiserMixture ul2() {
        return sevenDenoisers("[NLU]", "[S2S]", "[NLG]", 0.25, new double[] {0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.1}, SequentialLayout.PLAIN);
    }

    /** OpenBA's seven denoisers, drawn uniformly, with OpenBA's mode tokens (see the class comment). */
    public static DenoiserMixture openBa() {
        double[] uniform = {1, 1, 1, 1, 1, 1, 1};
        return sevenDenoisers("<R>", "<S>", "<X>", 0.125, uniform, SequentialLayout.SENTINEL);
    }

    /** OpenBA's seven denoisers at OpenBA-V2's Dynamic-UL2 start mixture (see the class comment). */
    public static DenoiserMixture openBaV2() {
        DenoiserMixture openBa = openBa();
        return new DenoiserMixture(openBa.denoisers(), new double[] {0.02, 0.02, 0.8, 0.1, 0.02, 0.02, 0.02}, openBa.sequentialLayout());
    }

    /** T5's span corruption (Raffel et al. 2020): μ = 3, r = 0.15, no mode token. */
    public static DenoiserMixture t5() {
        return new DenoiserMixture(List.of(Denoiser.spans(Kind.R, 3, 0.15, "")), new double[] {1}, SequentialLayout.PLAIN);
    }

    /** The seven settings in this order: R(3, .15), R(8, .15), S, X(3, .5), X(8, .5), X(64, .15), X(64, .5); {@code rrsxxxx} weighs them. */
    private static DenoiserMixture sevenDenoisers(String r, String s, String x, double sequentialDensity, double[] rrsxxxx, SequentialLayout layout) {
        return new DenoiserMixture(List.of(
                Denoiser.spans(Kind.R, 3, 0.15, r),
                Denoiser.spans(Kind.R, 8, 0.15, r),
                Denoiser.sequential(sequentialDensity, s),
                Denoiser.spans(Kind.X, 3, 0.5, x),
                Denoiser.spans(Kind.X, 8, 0.5, x),
                Denoiser.spans(Kind.X, 64, 0.15, x),
                Denoiser.spans(Kind.X, 64, 0.5, x)), rrsxxxx, layout);
    }

    /**
     * The same mixture with other mode tokens per kind, e.g. UL2's settings with OpenBA's tokens:
     * {@code DenoiserMixture.ul2().withModeTokens("<R>", "<S>", "<X>")}; "" for none.
     */
    public DenoiserMixture withModeTokens(String r, String s, String x) {
        List<Denoiser> renamed = denoisers.stream()
                .map(d -> new Denoiser(d.kind(), d.meanSpanLength(), d.noiseDensity(), switch (d.kind()) {
                    case R -> r;
                    case S -> s;
                    case X -> x;
                }))
                .toList();
        return new DenoiserMixture(renamed, weights, sequentialLayout);
    }

    /** The weights normalised to sum to 1. */
    public double[] probabilities() {
        double sum = 0;
        for (double w : weights) sum += w;
        double[] p = new double[weights.length];
        for (int d = 0; d < p.length; d++) p[d] = weights[d] / sum;
        return p;
    }

    @Override
    public double[] weights() {
        return weights.clone();
    }
}
