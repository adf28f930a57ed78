package dev.shears.kernel;

/**
 * The scalar twin of {@link MatMul}: the same four products as plain loops, each output a left-to-right
 * sum. It is the documentation of what {@link MatMul} computes and the oracle its tests compare with.
 * Layout as {@code nn.Linear}: {@code weight} is [outDim, inDim], everything row-major.
 */
public final class MatMulScalar {
    private MatMulScalar() {
    }

    /**
     * {@code out = x · weightᵀ}.
     *
     * @param out    [rows, outDim], overwritten
     * @param x      [rows, inDim]
     * @param weight [outDim, inDim]
     */
    public static void forward(float[] out, float[] x, float[] weight, int rows, int inDim, int outDim) {
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < outDim; o++) {
                float sum = 0;
                for (int i = 0; i < inDim; i++) sum += x[r * inDim + i] * weight[o * inDim + i];
                out[r * outDim + o] = sum;
            }
        }
    }

    /**
     * {@code out = x · weightᵀ + bias}.
     *
     * @param bias [outDim]
     */
    public static void forward(float[] out, float[] x, float[] weight, float[] bias, int rows, int inDim, int outDim) {
        forward(out, x, weight, rows, inDim, outDim);
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < outDim; o++) out[r * outDim + o] += bias[o];
        }
    }

    /**
     * {@code dX += dOut · weight}.
     *
     * @param dX     [rows, inDim], accumulated into
     * @param dOut   [rows, outDim]
     * @param weight [outDim, inDim]
     */
    public static void backwardInput(float[] dX, float[] dOut, float[] weight, int rows, int inDim, int outDim) {
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < outDim; o++) {
                float g = dOut[r * outDim + o];
                for (int i = 0; i < inDim; i++) dX[r * inDim + i] += g * weight[o * inDim + i];
            }
        }
    }

    /**
     * {@code dWeight += dOutᵀ · x}.
     *
     * @param dWeight [outDim, inDim], accumulated into
     * @param dOut    [rows, outDim]
     * @param x       [rows, inDim]
     */
    public static void backwardWeight(float[] dWeight, float[] dOut, float[] x, int rows, int inDim, int outDim) {
        for (int o = 0; o < outDim; o++) {
            for (int i = 0; i < inDim; i++) {
                float sum = 0;
                for (int r = 0; r < rows; r++) sum += dOut[r * outDim + o] * x[r * inDim + i];
                dWeight[o * inDim + i] += sum;
            }
        }
    }
}
