package dev.shears.tensor;

/**
 * A read-only row-major weight matrix [rows, cols] (a vector is one row): fp32 on the heap
 * ({@link DenseTensor}), mapped from a model file in the file's own encoding ({@link MappedTensor}),
 * or a view computed row by row from another ({@link SlicedTensor}, random initialisation), widened to
 * fp32 only as it is read. Reading the same elements from any of them gives the same floats, so
 * kernels give the same bits on each, and writers stream any of them to a file one row at a time.
 */
public interface Tensor {
    int rows();

    int cols();

    Encoding encoding();

    default long size() {
        return (long) rows() * cols();
    }

    /** Bytes this tensor's elements take where they live (on the heap or in the file). */
    default long bytes() {
        return encoding().bytes(size());
    }

    /**
     * Widens {@code n} elements of one row to fp32.
     *
     * @param row the row
     * @param col the first column
     * @param dst receives columns {@code [col, col + n)} at {@code dst[dstOff ...]}
     */
    void read(int row, int col, int n, float[] dst, int dstOff);

    /** All elements widened to fp32, as a fresh array. */
    default float[] toArray() {
        if (size() > Integer.MAX_VALUE - 8) throw new IllegalStateException(rows() + " × " + cols() + " elements are too many for one array");
        float[] out = new float[Math.toIntExact(size())];
        for (int r = 0; r < rows(); r++) read(r, 0, cols(), out, r * cols());
        return out;
    }

    /** Lets the operating system drop this tensor's pages from memory until they are read again (mapped tensors). */
    default void release() {
    }
}
