package dev.shears.kernel;

/**
 * Multiplication of structures by their gates, the single mechanism behind Taylor importance, learned
 * L0 masks and masked-equals-sliced checks. Forward scales in place; backward returns the gradient to
 * the ungated values and accumulates the gradient of each gate, {@code dGate = Σ dOut ⊙ ungated}.
 */
public final class GateScale {
    private GateScale() {
    }

    /**
     * {@code x[r, u*width + d] *= gate[u]}: one gate per unit of {@code width} consecutive columns
     * (a head: width = headDim; a neuron or a hidden channel: width = 1).
     *
     * @param x    [rows, units*width]
     * @param gate [units]
     */
    public static void forward(float[] x, int rows, int units, int width, float[] gate) {
        int cols = units * width;
        for (int r = 0; r < rows; r++) {
            for (int u = 0; u < units; u++) {
                float g = gate[u];
                int o = r * cols + u * width;
                for (int d = 0; d < width; d++) x[o + d] *= g;
            }
        }
    }

    /**
     * Backward of {@link #forward}.
     *
     * @param dX       [rows, units*width]: on entry the gradient of the gated values, on exit of the ungated ones
     * @param ungated  [rows, units*width], the values before gating
     * @param dGate    [units], accumulated into
     */
    public static void backward(float[] dX, float[] ungated, int rows, int units, int width, float[] gate, float[] dGate) {
        int cols = units * width;
        for (int u = 0; u < units; u++) {
            double sum = 0;
            for (int r = 0; r < rows; r++) {
                int o = r * cols + u * width;
                for (int d = 0; d < width; d++) sum += (double) dX[o + d] * ungated[o + d];
            }
            dGate[u] += (float) sum;
        }
        forward(dX, rows, units, width, gate);
    }
}
