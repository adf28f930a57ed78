package dev.shears.kernel;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

class RopeTest {
    /** Per-row positions (packed sequences restarting at 0, or continuing a prefix) rotate as the same rows of one sequence do. */
    @Test
    void rowPositionsRotateAsTheirSequences() {
        int heads = 3, headDim = 8, width = heads * headDim;
        RopeTable table = new RopeTable(new double[] {1, 0.3, 0.01, 1e-4});
        Random r = new Random(3);
        float[] x = new float[9 * width];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        // rows 0..3 at positions 0..3, rows 4..8 at positions 6..10
        int[] positions = {0, 1, 2, 3, 6, 7, 8, 9, 10};
        float[] first = java.util.Arrays.copyOfRange(x, 0, 4 * width), second = java.util.Arrays.copyOfRange(x, 4 * width, 9 * width);
        Rope.forward(x, 9, positions, heads, headDim, table);
        Rope.forward(first, 4, 4, 0, heads, headDim, table);
        Rope.forward(second, 5, 5, 6, heads, headDim, table);
        assertArrayEquals(first, java.util.Arrays.copyOfRange(x, 0, 4 * width));
        assertArrayEquals(second, java.util.Arrays.copyOfRange(x, 4 * width, 9 * width));
    }
}
