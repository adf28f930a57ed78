package dev.shears.kernel;

/**
 * The tanh approximation of GELU (Hendrycks &amp; Gimpel 2016), Hugging Face's {@code gelu_new}, which T5
 * v1.1 and Flan-T5 run in their gated feed-forward ({@code feed_forward_proj = "gated-gelu"}):
 * {@code gelu(x) = ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))}, evaluated in double and rounded once.
 */
public final class GeluNew {
    private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
    /** The cubic coefficient of the approximation (Hendrycks &amp; Gimpel, eq. in §2). */
    private static final double CUBIC = 0.044715;

    private GeluNew() {
    }

    public static double value(double x) {
        return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + CUBIC * x * x * x)));
    }

    /** d gelu / dx = ½(1 + t) + ½·x·(1 − t²)·√(2/π)·(1 + 3·0.044715·x²), t = tanh(√(2/π)(x + 0.044715x³)). */
    public static double derivative(double x) {
        double t = Math.tanh(SQRT_2_OVER_PI * (x + CUBIC * x * x * x));
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * CUBIC * x * x);
    }

    /**
     * The gated product {@code out = gelu(gate) ⊙ up}.
     *
     * @param out  [n], overwritten
     * @param gate [n]
     * @param up   [n]
     */
    public static void forwardGated(float[] out, float[] gate, float[] up, int n) {
        for (int i = 0; i < n; i++) out[i] = (float) (value(gate[i]) * up[i]);
    }

    /**
     * Backward of {@link #forwardGated}: {@code dGate += dOut·up·gelu'(gate)}, {@code dUp += dOut·gelu(gate)}.
     *
     * @param dGate [n], accumulated into
     * @param dUp   [n], accumulated into
     * @param dOut  [n]
     */
    public static void backwardGated(float[] dGate, float[] dUp, float[] dOut, float[] gate, float[] up, int n) {
        for (int i = 0; i < n; i++) {
            dGate[i] += (float) (dOut[i] * up[i] * derivative(gate[i]));
            dUp[i] += (float) (dOut[i] * value(gate[i]));
        }
    }
}
