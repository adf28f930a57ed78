package dev.shears.l0;

/**
 * Hard-concrete distribution of L0 gates (Louizos, Welling &amp; Kingma 2018), with the constants of
 * Sheared-LLaMA (METHODS.md §2): stretch (l, r) = (−0.1, 1.1), temperature β = 2/3, ε = 1e-6.
 */
public final class HardConcrete {
    public static final double LEFT = -0.1;
    public static final double RIGHT = 1.1;
    public static final double BETA = 2.0 / 3.0;
    public static final double EPSILON = 1e-6;
    /** logAlpha is clamped to [log 1e-2, log 1e2] after each step. */
    public static final double MIN_LOG_ALPHA = Math.log(1e-2);
    public static final double MAX_LOG_ALPHA = Math.log(1e2);

    private HardConcrete() {
    }

    /**
     * A training sample: {@code s = σ((log u − log(1−u) + logAlpha)/β)}, {@code z = clamp(s·(r−l) + l, 0, 1)}.
     *
     * @param u uniform in (0, 1); clamped to [ε, 1−ε]
     */
    public static double sample(double logAlpha, double u) {
        double s = stretchedSigmoid(logAlpha, u);
        return Math.min(1, Math.max(0, s * (RIGHT - LEFT) + LEFT));
    }

    /** {@code dz/dlogAlpha} of {@link #sample} (0 where the clamp is active). */
    public static double sampleGradient(double logAlpha, double u) {
        double s = stretchedSigmoid(logAlpha, u);
        double stretched = s * (RIGHT - LEFT) + LEFT;
        if (stretched <= 0 || stretched >= 1) return 0;
        return (RIGHT - LEFT) * s * (1 - s) / BETA;
    }

    private static double stretchedSigmoid(double logAlpha, double u) {
        double v = Math.min(1 - EPSILON, Math.max(EPSILON, u));
        return sigmoid((Math.log(v) - Math.log(1 - v) + logAlpha) / BETA);
    }

    /** {@code P(z > 0) = 1 − σ(β·log(−l/r) − logAlpha)}: the probability a unit is kept. */
    public static double keepProbability(double logAlpha) {
        return 1 - sigmoid(BETA * Math.log(-LEFT / RIGHT) - logAlpha);
    }

    /** {@code dP(z > 0)/dlogAlpha = σ(x)·(1 − σ(x))} with {@code x = β·log(−l/r) − logAlpha}. */
    public static double keepProbabilityGradient(double logAlpha) {
        double s = sigmoid(BETA * Math.log(-LEFT / RIGHT) - logAlpha);
        return s * (1 - s);
    }

    /** The deterministic score used for evaluation and export: {@code σ(logAlpha/β · 0.8)}. */
    public static double deterministicScore(double logAlpha) {
        return sigmoid(logAlpha / BETA * 0.8);
    }

    public static double clampLogAlpha(double logAlpha) {
        return Math.min(MAX_LOG_ALPHA, Math.max(MIN_LOG_ALPHA, logAlpha));
    }

    static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }
}
