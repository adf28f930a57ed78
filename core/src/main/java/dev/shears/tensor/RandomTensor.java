package dev.shears.tensor;

import java.util.SplittableRandom;

/**
 * A tensor of seeded uniform random values, computed row by row when read: {@code shears init}'s
 * weights, written to disk with one row of memory. Row r draws from its own stream (seed and row
 * mixed), so any row can be read alone and the same seed gives the same bits. Values are uniform on
 * {@code [-√3·std, √3·std)} (standard deviation {@code std}), or the constant {@code fill} when std is 0.
 */
public record RandomTensor(int rows, int cols, double std, float fill, long seed) implements Tensor {
    private static final ThreadLocal<float[][]> ROW = ThreadLocal.withInitial(() -> new float[1][0]);

    public RandomTensor {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("negative shape " + rows + " × " + cols);
        if (!(std >= 0)) throw new IllegalArgumentException("std must be non-negative, got " + std);
    }

    @Override
    public Encoding encoding() {
        return Encoding.F32;
    }

    @Override
    public void read(int row, int col, int n, float[] dst, int dstOff) {
        if (std == 0) {
            java.util.Arrays.fill(dst, dstOff, dstOff + n, fill);
            return;
        }
        SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + row);
        float scale = (float) (std * Math.sqrt(3) * 0x1p-31);
        if (col == 0) {
            for (int i = 0; i < n; i++) dst[dstOff + i] = random.nextInt() * scale;
            return;
        }
        float[][] holder = ROW.get();
        if (holder[0].length < col + n) holder[0] = new float[col + n];
        read(row, 0, col + n, holder[0], 0);
        System.arraycopy(holder[0], col, dst, dstOff, n);
    }
}
