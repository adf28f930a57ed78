package dev.shears.kernel;

import dev.shears.tensor.Tensor;

/** Token embedding lookup, as {@code torch.nn.Embedding}. */
public final class Embedding {
    private Embedding() {
    }

    /**
     * @param out    [tokens.length, dim], overwritten
     * @param tokens ids in [0, vocabSize)
     * @param table  [vocabSize, dim]
     */
    public static void forward(float[] out, int[] tokens, float[] table, int dim) {
        int vocab = table.length / dim;
        for (int t = 0; t < tokens.length; t++) {
            int id = tokens[t];
            if (id < 0 || id >= vocab) throw new IllegalArgumentException("token id " + id + " at position " + t + " is outside the vocabulary [0, " + vocab + ")");
            System.arraycopy(table, id * dim, out, t * dim, dim);
        }
    }

    /**
     * The same lookup from a table wherever it lives (heap or mapped file): rows widened to fp32.
     *
     * @param out   [tokens.length, table.cols()], overwritten
     * @param table [vocabSize, dim]
     */
    public static void forward(float[] out, int[] tokens, Tensor table) {
        int dim = table.cols();
        for (int t = 0; t < tokens.length; t++) {
            int id = tokens[t];
            if (id < 0 || id >= table.rows()) throw new IllegalArgumentException("token id " + id + " at position " + t + " is outside the vocabulary [0, " + table.rows() + ")");
            table.read(id, 0, dim, out, t * dim);
        }
    }

    /**
     * Backward of {@link #forward}: each token's row of the gradient is added to its table row, in token
     * order (so the sum order, and the result, is fixed).
     *
     * @param dTable [vocabSize, dim], accumulated into
     * @param dOut   [tokens.length, dim]
     */
    public static void backward(float[] dTable, float[] dOut, int[] tokens, int dim) {
        for (int t = 0; t < tokens.length; t++) {
            int row = tokens[t] * dim;
            int o = t * dim;
            for (int c = 0; c < dim; c++) dTable[row + c] += dOut[o + c];
        }
    }
}
