package dev.shears.kernel;

/**
 * The SwiGLU activation (Shazeer 2020) of LLaMA's MLP: {@code out = silu(gate) · up}, with
 * {@code silu(g) = g · sigmoid(g)} ({@code torch.nn.functional.silu}).
 */
public final class SwiGlu {
    private SwiGlu() {
    }

    /**
     * @param out  [n], overwritten
     * @param gate [n], the gate projection
     * @param up   [n], the up projection
     */
    public static void forward(float[] out, float[] gate, float[] up, int n) {
        for (int i = 0; i < n; i++) {
            float g = gate[i];
            out[i] = g / (1f + (float) Math.exp(-g)) * up[i];
        }
    }

    /**
     * Backward of {@link #forward}: {@code dUp += dOut·silu(g)}, {@code dGate += dOut·up·σ(g)·(1 + g·(1 − σ(g)))}.
     * Accumulates.
     */
    public static void backward(float[] dGate, float[] dUp, float[] dOut, float[] gate, float[] up, int n) {
        for (int i = 0; i < n; i++) {
            float g = gate[i];
            float sig = 1f / (1f + (float) Math.exp(-g));
            dUp[i] += dOut[i] * g * sig;
            dGate[i] += dOut[i] * up[i] * sig * (1f + g * (1f - sig));
        }
    }
}
