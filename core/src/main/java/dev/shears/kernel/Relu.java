package dev.shears.kernel;

/** {@code max(x, 0)}, the activation of T5 v1.0's feed-forward ({@code DenseReluDense}). */
public final class Relu {
    private Relu() {
    }

    /**
     * @param out [n], overwritten
     * @param x   [n]
     */
    public static void forward(float[] out, float[] x, int n) {
        for (int i = 0; i < n; i++) out[i] = Math.max(x[i], 0f);
    }

    /**
     * Backward of {@link #forward}: {@code dX += dOut} where {@code x > 0} (0 at the kink, as PyTorch).
     *
     * @param dX   [n], accumulated into
     * @param dOut [n]
     * @param x    [n], the forward input
     */
    public static void backward(float[] dX, float[] dOut, float[] x, int n) {
        for (int i = 0; i < n; i++) if (x[i] > 0) dX[i] += dOut[i];
    }
}
