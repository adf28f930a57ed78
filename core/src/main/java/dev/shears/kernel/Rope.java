package dev.shears.kernel;

/**
 * Rotary position embedding in the Hugging Face "rotate half" layout ({@code apply_rotary_pos_emb}):
 * within each head, element {@code i} pairs with {@code i + headDim/2};
 * {@code out = x·cos + rotate_half(x)·sin}. llama2.c and GGUF files store q/k rows interleaved;
 * the readers permute them into this layout at the boundary.
 */
public final class Rope {
    private Rope() {
    }

    /**
     * Rotates in place.
     *
     * @param x        [rows, numHeads * headDim]; row r holds position {@code startPos + r % seqLen}
     * @param seqLen   rows per sequence (rows may hold several sequences back to back)
     * @param startPos position of each sequence's first row
     */
    public static void forward(float[] x, int rows, int seqLen, int startPos, int numHeads, int headDim, RopeTable table) {
        rotate(x, rows, seqLen, startPos, numHeads, headDim, table, 1f);
    }

    /**
     * Backward of {@link #forward}: the rotation is orthogonal, so the gradient is rotated back by the
     * transposed rotation, in place.
     *
     * @param dX [rows, numHeads * headDim], the gradient of the rotated values on entry, of the inputs on exit
     */
    public static void backward(float[] dX, int rows, int seqLen, int startPos, int numHeads, int headDim, RopeTable table) {
        rotate(dX, rows, seqLen, startPos, numHeads, headDim, table, -1f);
    }

    /**
     * Rotates in place, each row at its own position (rows of packed sequences whose positions restart).
     *
     * @param x         [rows, numHeads * headDim]
     * @param positions [rows], the position of each row
     */
    public static void forward(float[] x, int rows, int[] positions, int numHeads, int headDim, RopeTable table) {
        int most = 0;
        for (int r = 0; r < rows; r++) most = Math.max(most, positions[r]);
        table.ensure(most + 1);
        for (int r = 0; r < rows; r++) rotateRow(x, r, positions[r], numHeads, headDim, table, 1f);
    }

    /** Rotates each pair (i, i + half) by the angle at its position, or by minus it ({@code sign} −1: exact, negation rounds nothing). */
    private static void rotate(float[] x, int rows, int seqLen, int startPos, int numHeads, int headDim, RopeTable table, float sign) {
        table.ensure(startPos + seqLen);
        for (int r = 0; r < rows; r++) rotateRow(x, r, startPos + r % seqLen, numHeads, headDim, table, sign);
    }

    /** Row r of x, every head, at {@code position}. */
    private static void rotateRow(float[] x, int r, int position, int numHeads, int headDim, RopeTable table, float sign) {
        int half = headDim / 2;
        float[] cos = table.cos();
        float[] sin = table.sin();
        int width = numHeads * headDim;
        int t = position * half;
        for (int h = 0; h < numHeads; h++) {
            int o = r * width + h * headDim;
            for (int i = 0; i < half; i++) {
                float x1 = x[o + i];
                float x2 = x[o + i + half];
                float c = cos[t + i];
                float s = sign * sin[t + i];
                x[o + i] = x1 * c - x2 * s;
                x[o + i + half] = x2 * c + x1 * s;
            }
        }
    }
}
