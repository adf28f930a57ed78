package dev.shears.tensor;

/**
 * An fp32 tensor on the heap: the form of every weight a run trains.
 *
 * @param values row-major [rows, cols], shared (not copied)
 */
public record DenseTensor(float[] values, int rows, int cols) implements Tensor {
    public DenseTensor {
        if (rows < 0 || cols < 0 || (long) rows * cols != values.length) {
            throw new IllegalArgumentException(values.length + " values for a " + rows + " × " + cols + " tensor");
        }
    }

    /** A vector: one row. */
    public static DenseTensor vector(float[] values) {
        return new DenseTensor(values, 1, values.length);
    }

    @Override
    public Encoding encoding() {
        return Encoding.F32;
    }

    @Override
    public void read(int row, int col, int n, float[] dst, int dstOff) {
        System.arraycopy(values, row * cols + col, dst, dstOff, n);
    }
}
