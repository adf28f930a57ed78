package dev.shears.seq2seq;

/**
 * The gated residual add of a sub-layer, {@code x + out · layerGate ⊙ hidden} (Sheared-LLaMA's layer and hidden
 * gates on a block's output), and its backward; and the hidden gates on the embedding. Shared by {@link T5} and
 * {@link OpenBa}. With every gate 1 it is the plain residual add, bit for bit.
 */
final class GatedResidual {
    private GatedResidual() {
    }

    /**
     * @param x      [rows, dim], the residual stream entering the sub-layer
     * @param out    [rows, dim], the sub-layer's output
     * @param hidden [dim]
     * @return [rows, dim], a new array
     */
    static float[] add(float[] x, float[] out, float layerGate, float[] hidden, int rows, int dim) {
        float[] y = new float[rows * dim];
        for (int r = 0; r < rows; r++) {
            int o = r * dim;
            for (int j = 0; j < dim; j++) y[o + j] = x[o + j] + out[o + j] * (layerGate * hidden[j]);
        }
        return y;
    }

    /**
     * Backward of {@link #add} for the sub-layer branch (the residual branch passes dX unchanged):
     * {@code dOut = dX · layerGate ⊙ hidden}; {@code dLayer[0] += Σ dX ⊙ out ⊙ hidden}, {@code dHidden[j] += Σ_rows dX ⊙ out · layerGate}.
     *
     * @return dOut [rows, dim]
     */
    static float[] backward(float[] dX, float[] out, float layerGate, float[] hidden, float[] dLayer, float[] dHidden, int rows, int dim) {
        float[] dOut = new float[rows * dim];
        double[] perChannel = new double[dim];
        for (int r = 0; r < rows; r++) {
            int o = r * dim;
            for (int j = 0; j < dim; j++) {
                perChannel[j] += (double) dX[o + j] * out[o + j];
                dOut[o + j] = dX[o + j] * (layerGate * hidden[j]);
            }
        }
        double layer = 0;
        for (int j = 0; j < dim; j++) {
            layer += perChannel[j] * hidden[j];
            dHidden[j] += (float) (perChannel[j] * layerGate);
        }
        dLayer[0] += (float) layer;
        return dOut;
    }

    /** {@code x[r, j] *= hidden[j]}: the hidden gates on the embedding's output [rows, dim]. */
    static void scaleChannels(float[] x, float[] hidden, int rows, int dim) {
        for (int r = 0; r < rows; r++) for (int j = 0; j < dim; j++) x[r * dim + j] *= hidden[j];
    }

    /**
     * Backward of the hidden gates on the embedding: {@code dHidden[j] += Σ_rows dX ⊙ embedded}, then dX [rows, dim]
     * becomes the gradient of the ungated embedding ({@code dX ⊙ hidden}).
     *
     * @param table the embedding table [vocab, dim] the rows were looked up in
     */
    static void scaleChannelsBackward(float[] dX, int[] ids, float[] table, float[] hidden, float[] dHidden, int dim) {
        double[] sum = new double[dim];
        for (int r = 0; r < ids.length; r++) {
            int o = r * dim, e = ids[r] * dim;
            for (int j = 0; j < dim; j++) sum[j] += (double) dX[o + j] * table[e + j];
        }
        for (int j = 0; j < dim; j++) dHidden[j] += (float) sum[j];
        scaleChannels(dX, hidden, ids.length, dim);
    }
}
