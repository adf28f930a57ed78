package dev.shears.kernel;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static dev.shears.tensor.GradCheck.gaussian;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link LayerNorm#forwardMasked} and {@link LayerNorm#backwardMasked} against the unmasked LayerNorm of the kept channels
 * alone (the sliced twin, whose backward {@code LayerNormTest} checks by finite differences in double): the kept channels
 * give the sliced values, the dropped ones 0 and no gradient; every gate non-zero gives {@link LayerNorm#forward}'s bits.
 */
class LayerNormMaskedTest {
    private static final int ROWS = 4, DIM = 11;
    private static final float EPS = 1e-5f;
    private static final int[] KEPT = {0, 2, 3, 5, 8, 9};

    @Test
    void zeroGatesNormaliseLikeTheSlicedChannels() {
        Random r = new Random(5);
        float[] x = gaussian(r, ROWS * DIM, 1.5), weight = gaussian(r, DIM, 1), bias = gaussian(r, DIM, 1), dOut = gaussian(r, ROWS * DIM, 1);
        float[] gate = new float[DIM];
        for (int c : KEPT) gate[c] = 0.5f + c;
        for (int row = 0; row < ROWS; row++) for (int c = 0; c < DIM; c++) if (gate[c] == 0f) x[row * DIM + c] = 0f; // a dropped channel carries 0 in the residual stream
        float[] out = new float[ROWS * DIM], mean = new float[ROWS], rstd = new float[ROWS];
        LayerNorm.forwardMasked(out, mean, rstd, x, weight, bias, gate, ROWS, DIM, EPS);
        float[] dX = new float[ROWS * DIM], dWeight = new float[DIM], dBias = new float[DIM];
        LayerNorm.backwardMasked(dX, dWeight, dBias, dOut, x, weight, gate, mean, rstd, ROWS, DIM);

        int k = KEPT.length;
        float[] xs = columns(x, KEPT), ws = columns(weight, KEPT), bs = columns(bias, KEPT), dOuts = columns(dOut, KEPT);
        float[] sliced = new float[ROWS * k], sMean = new float[ROWS], sRstd = new float[ROWS];
        LayerNorm.forward(sliced, sMean, sRstd, xs, ws, bs, ROWS, k, EPS);
        float[] sdX = new float[ROWS * k], sdW = new float[k], sdB = new float[k];
        LayerNorm.backward(sdX, sdW, sdB, dOuts, xs, ws, sMean, sRstd, ROWS, k);
        assertArrayEquals(sliced, columns(out, KEPT), 1e-5f, "kept channels");
        assertArrayEquals(sdX, columns(dX, KEPT), 1e-5f, "dX of kept channels");
        assertArrayEquals(sdW, columns(dWeight, KEPT), 1e-5f, "dWeight of kept channels");
        assertArrayEquals(sdB, columns(dBias, KEPT), 1e-5f, "dBias of kept channels");
        for (int row = 0; row < ROWS; row++) {
            for (int c = 0; c < DIM; c++) {
                if (gate[c] != 0f) continue;
                assertEquals(0f, out[row * DIM + c], "a dropped channel's output is 0, its bias does not leak");
                assertEquals(0f, dX[row * DIM + c]);
                assertEquals(0f, dWeight[c]);
                assertEquals(0f, dBias[c]);
            }
        }
    }

    @Test
    void nonZeroGatesGiveTheUnmaskedBits() {
        Random r = new Random(6);
        float[] x = gaussian(r, ROWS * DIM, 1.5), weight = gaussian(r, DIM, 1), bias = gaussian(r, DIM, 1);
        float[] gate = gaussian(r, DIM, 1);
        for (int c = 0; c < DIM; c++) if (gate[c] == 0f) gate[c] = 1f;
        float[] masked = new float[ROWS * DIM], plain = new float[ROWS * DIM];
        LayerNorm.forwardMasked(masked, new float[ROWS], new float[ROWS], x, weight, bias, gate, ROWS, DIM, EPS);
        LayerNorm.forward(plain, new float[ROWS], new float[ROWS], x, weight, bias, ROWS, DIM, EPS);
        assertArrayEquals(plain, masked);
    }

    /** The kept columns of a [rows, DIM] matrix (or of a [DIM] vector). */
    private static float[] columns(float[] m, int[] kept) {
        int rows = m.length / DIM;
        float[] out = new float[rows * kept.length];
        for (int row = 0; row < rows; row++) for (int j = 0; j < kept.length; j++) out[row * kept.length + j] = m[row * DIM + kept[j]];
        return out;
    }
}
