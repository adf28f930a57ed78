package dev.shears.kernel;

/**
 * Matrix products in PyTorch {@code nn.Linear} layout: {@code weight} is [outDim, inDim], row-major.
 * (Scalar placeholder; the fast kernels replace the bodies, keeping these signatures.)
 */
public final class MatMul {
    private MatMul() {
    }

    /**
     * {@code out = x · weightᵀ}, as {@code torch.nn.functional.linear(x, weight)}.
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
}
