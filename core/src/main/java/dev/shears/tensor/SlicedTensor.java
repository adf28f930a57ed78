package dev.shears.tensor;

/**
 * Chosen rows and columns of another tensor, read through without a copy: what a pruned model's
 * weights are until it is written or trained (and a row permutation, for writing). Kept columns
 * ascend, so the columns of one read come from one contiguous range of the parent's row.
 *
 * @param parent   the unpruned tensor
 * @param keptRows the parent row of each row, in any order
 * @param keptCols kept parent columns, ascending
 */
public record SlicedTensor(Tensor parent, int[] keptRows, int[] keptCols) implements Tensor {
    private static final ThreadLocal<float[][]> BUFFER = ThreadLocal.withInitial(() -> new float[1][0]);

    public SlicedTensor {
        for (int r : keptRows) {
            if (r < 0 || r >= parent.rows()) throw new IllegalArgumentException("row " + r + " is outside [0, " + parent.rows() + ")");
        }
        for (int i = 0; i < keptCols.length; i++) {
            if (keptCols[i] < 0 || keptCols[i] >= parent.cols() || i > 0 && keptCols[i] <= keptCols[i - 1]) {
                throw new IllegalArgumentException("kept column indices must ascend within [0, " + parent.cols() + "), got " + keptCols[i] + " at " + i);
            }
        }
    }

    /** The rows of {@code parent} in another order: row r is parent row {@code order[r]}. */
    public static SlicedTensor rows(Tensor parent, int[] order) {
        int[] all = new int[parent.cols()];
        for (int i = 0; i < all.length; i++) all[i] = i;
        return new SlicedTensor(parent, order, all);
    }

    @Override
    public int rows() {
        return keptRows.length;
    }

    @Override
    public int cols() {
        return keptCols.length;
    }

    @Override
    public Encoding encoding() {
        return parent.encoding() == Encoding.Q8_0 ? Encoding.F32 : parent.encoding();
    }

    @Override
    public void read(int row, int col, int n, float[] dst, int dstOff) {
        if (n == 0) return;
        int first = keptCols[col];
        int span = keptCols[col + n - 1] - first + 1;
        if (span == n) {
            parent.read(keptRows[row], first, n, dst, dstOff);
            return;
        }
        float[][] holder = BUFFER.get();
        if (holder[0].length < span) holder[0] = new float[span];
        float[] buffer = holder[0];
        parent.read(keptRows[row], first, span, buffer, 0);
        for (int i = 0; i < n; i++) dst[dstOff + i] = buffer[keptCols[col + i] - first];
    }

    @Override
    public void release() {
        parent.release();
    }
}
