package dev.shears.kernel;

/**
 * Layer normalisation with a bias (Ba et al. 2016), as {@code torch.nn.LayerNorm(dim)}:
 * {@code out = weight · (x − mean(x)) / sqrt(var(x) + eps) + bias}, the variance biased (divided by dim).
 * OpenBA normalises every sub-layer's input with it.
 *
 * <p>Plain loops, one row at a time, the mean and the variance summed in double in channel order; rows are
 * independent, so the results do not depend on how a caller splits them.
 */
public final class LayerNorm {
    private LayerNorm() {
    }

    /**
     * @param out    [rows, dim], overwritten
     * @param mean   [rows], receives each row's mean (kept for the backward pass)
     * @param rstd   [rows], receives {@code 1 / sqrt(var + eps)} (kept for the backward pass)
     * @param x      [rows, dim]
     * @param weight [dim]
     * @param bias   [dim]
     */
    public static void forward(float[] out, float[] mean, float[] rstd, float[] x, float[] weight, float[] bias,
                               int rows, int dim, float eps) {
        for (int r = 0; r < rows; r++) {
            int o = r * dim;
            double sum = 0;
            for (int c = 0; c < dim; c++) sum += x[o + c];
            double mu = sum / dim;
            double squares = 0;
            for (int c = 0; c < dim; c++) {
                double centred = x[o + c] - mu;
                squares += centred * centred;
            }
            float s = (float) (1 / Math.sqrt(squares / dim + eps));
            float m = (float) mu;
            mean[r] = m;
            rstd[r] = s;
            for (int c = 0; c < dim; c++) out[o + c] = weight[c] * ((x[o + c] - m) * s) + bias[c];
        }
    }

    /**
     * Backward of {@link #forward}: with {@code x̂ = (x − mean)·s} and {@code g = dy ⊙ weight},
     * {@code dx += s·(g − mean(g) − x̂·mean(g ⊙ x̂))}, {@code dWeight += Σ_rows dy ⊙ x̂}, {@code dBias += Σ_rows dy}.
     * Accumulates.
     *
     * @param dX      [rows, dim], accumulated into
     * @param dWeight [dim], accumulated into
     * @param dBias   [dim], accumulated into
     * @param dOut    [rows, dim]
     * @param x       [rows, dim], the forward input
     * @param mean    [rows], saved by the forward pass
     * @param rstd    [rows], saved by the forward pass
     */
    public static void backward(float[] dX, float[] dWeight, float[] dBias, float[] dOut, float[] x, float[] weight,
                                float[] mean, float[] rstd, int rows, int dim) {
        for (int r = 0; r < rows; r++) {
            int o = r * dim;
            float m = mean[r];
            float s = rstd[r];
            double sumG = 0;
            double sumGxHat = 0;
            for (int c = 0; c < dim; c++) {
                double g = (double) dOut[o + c] * weight[c];
                sumG += g;
                sumGxHat += g * ((x[o + c] - m) * s);
            }
            float meanG = (float) (sumG / dim);
            float meanGxHat = (float) (sumGxHat / dim);
            for (int c = 0; c < dim; c++) {
                float xHat = (x[o + c] - m) * s;
                dX[o + c] += s * (dOut[o + c] * weight[c] - meanG - xHat * meanGxHat);
                dWeight[c] += dOut[o + c] * xHat;
                dBias[c] += dOut[o + c];
            }
        }
    }

    /**
     * The masked form for learned hidden gates (LLM-Shearing's LayerNorm with {@code hidden_z}, which normalises the
     * kept channels alone and writes zeros elsewhere): mean and variance over the channels whose gate is non-zero, the
     * output 0 on the others (so the bias does not leak into a dropped channel). A model with zero gates on dropped
     * channels then normalises exactly like the model with those channels sliced away; with every gate non-zero this is
     * bit-identical to {@link #forward}.
     *
     * @param channelGate [dim], the hidden-channel gates
     */
    public static void forwardMasked(float[] out, float[] mean, float[] rstd, float[] x, float[] weight, float[] bias, float[] channelGate,
                                     int rows, int dim, float eps) {
        int n = RmsNorm.keptChannels(channelGate);
        for (int r = 0; r < rows; r++) {
            int o = r * dim;
            double sum = 0;
            for (int c = 0; c < dim; c++) if (channelGate[c] != 0f) sum += x[o + c];
            double mu = sum / n;
            double squares = 0;
            for (int c = 0; c < dim; c++) {
                if (channelGate[c] == 0f) continue;
                double centred = x[o + c] - mu;
                squares += centred * centred;
            }
            float s = (float) (1 / Math.sqrt(squares / n + eps));
            float m = (float) mu;
            mean[r] = m;
            rstd[r] = s;
            for (int c = 0; c < dim; c++) out[o + c] = channelGate[c] == 0f ? 0f : weight[c] * ((x[o + c] - m) * s) + bias[c];
        }
    }

    /** Backward of {@link #forwardMasked}: {@link #backward} over the kept channels; the dropped ones receive nothing. Accumulates. */
    public static void backwardMasked(float[] dX, float[] dWeight, float[] dBias, float[] dOut, float[] x, float[] weight, float[] channelGate,
                                      float[] mean, float[] rstd, int rows, int dim) {
        int n = RmsNorm.keptChannels(channelGate);
        for (int r = 0; r < rows; r++) {
            int o = r * dim;
            float m = mean[r];
            float s = rstd[r];
            double sumG = 0;
            double sumGxHat = 0;
            for (int c = 0; c < dim; c++) {
                if (channelGate[c] == 0f) continue;
                double g = (double) dOut[o + c] * weight[c];
                sumG += g;
                sumGxHat += g * ((x[o + c] - m) * s);
            }
            float meanG = (float) (sumG / n);
            float meanGxHat = (float) (sumGxHat / n);
            for (int c = 0; c < dim; c++) {
                if (channelGate[c] == 0f) continue;
                float xHat = (x[o + c] - m) * s;
                dX[o + c] += s * (dOut[o + c] * weight[c] - meanG - xHat * meanGxHat);
                dWeight[c] += dOut[o + c] * xHat;
                dBias[c] += dOut[o + c];
            }
        }
    }
}
