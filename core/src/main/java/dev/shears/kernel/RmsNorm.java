package dev.shears.kernel;

import dev.shears.tensor.Lanes;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Root-mean-square layer normalisation (Zhang &amp; Sennrich 2019), as Hugging Face {@code LlamaRMSNorm}:
 * {@code out = weight · x / sqrt(mean(x²) + eps)}, computed in fp32.
 */
public final class RmsNorm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private RmsNorm() {
    }

    /**
     * @param out    [rows, dim], overwritten
     * @param rstd   [rows], receives {@code 1 / sqrt(mean(x²) + eps)} (kept for the backward pass)
     * @param x      [rows, dim]
     * @param weight [dim]
     */
    public static void forward(float[] out, float[] rstd, float[] x, float[] weight, int rows, int dim, float eps) {
        for (int r = 0; r < rows; r++) {
            int o = r * dim;
            float s = 1f / (float) Math.sqrt(sumOfSquares(x, o, dim) / dim + eps);
            rstd[r] = s;
            scale(out, x, weight, o, dim, s);
        }
    }

    /**
     * The masked form of Sheared-LLaMA ({@code LlamaRMSNorm} with {@code hidden_z}): the mean of squares
     * is taken over the channels whose gate is non-zero only, so a model with zero gates on dropped
     * channels normalises exactly like the model with those channels sliced away. At every gated site
     * the dropped channels of {@code x} are exactly zero (the embedding and every block output are
     * multiplied by the hidden gates), so the sum runs over all channels and only the divisor changes;
     * with every gate non-zero this is bit-identical to {@link #forward}.
     *
     * @param channelGate [dim], the hidden-channel gates
     */
    public static void forwardMasked(float[] out, float[] rstd, float[] x, float[] weight, float[] channelGate,
                                     int rows, int dim, float eps) {
        int n = keptChannels(channelGate);
        for (int r = 0; r < rows; r++) {
            int o = r * dim;
            float s = 1f / (float) Math.sqrt(sumOfSquares(x, o, dim) / n + eps);
            rstd[r] = s;
            scale(out, x, weight, o, dim, s);
        }
    }

    /** The scalar twin of {@link #forward}: the documentation and the test oracle. */
    public static void forwardScalar(float[] out, float[] rstd, float[] x, float[] weight, int rows, int dim, float eps) {
        for (int r = 0; r < rows; r++) {
            int o = r * dim;
            double sum = 0;
            for (int c = 0; c < dim; c++) sum += (double) x[o + c] * x[o + c];
            float s = (float) (1 / Math.sqrt(sum / dim + eps));
            rstd[r] = s;
            for (int c = 0; c < dim; c++) out[o + c] = weight[c] * (x[o + c] * s);
        }
    }

    static float sumOfSquares(float[] x, int offset, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, offset + i);
            acc = v.fma(v, acc);
        }
        float sum = Lanes.sum(acc);
        for (; i < n; i++) sum += x[offset + i] * x[offset + i];
        return sum;
    }

    private static void scale(float[] out, float[] x, float[] weight, int offset, int dim, float s) {
        int i = 0;
        for (int bound = S.loopBound(dim); i < bound; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, offset + i).mul(s);
            v.mul(FloatVector.fromArray(S, weight, i)).intoArray(out, offset + i);
        }
        for (; i < dim; i++) out[offset + i] = weight[i] * (x[offset + i] * s);
    }

    /**
     * Backward of {@link #forward} / {@link #forwardMasked}: with {@code y = w·x·s}, {@code s = (Σx²/n + eps)^-½},
     * {@code dx = s·(dy⊙w) − x·s³/n·Σ(dy⊙w⊙x)} and {@code dw += Σ_rows dy⊙x·s}. Accumulates.
     *
     * @param dX      [rows, dim], accumulated into
     * @param dWeight [dim], accumulated into
     * @param dOut    [rows, dim]
     * @param x       [rows, dim], the forward input
     * @param rstd    [rows], saved by the forward pass
     * @param count   n: dim, or the number of kept channels for the masked form
     */
    public static void backward(float[] dX, float[] dWeight, float[] dOut, float[] x, float[] weight, float[] rstd,
                                int rows, int dim, int count) {
        for (int r = 0; r < rows; r++) {
            int o = r * dim;
            float s = rstd[r];
            double dot = 0;
            for (int c = 0; c < dim; c++) dot += (double) dOut[o + c] * weight[c] * x[o + c];
            float k = (float) (dot * s * s * s / count);
            for (int c = 0; c < dim; c++) {
                dX[o + c] += s * dOut[o + c] * weight[c] - x[o + c] * k;
                dWeight[c] += dOut[o + c] * x[o + c] * s;
            }
        }
    }

    /** Number of non-zero gates: the {@code count} of the masked form. */
    public static int keptChannels(float[] channelGate) {
        int kept = 0;
        for (float g : channelGate) if (g != 0f) kept++;
        return Math.max(kept, 1);
    }
}
