package dev.shears.kernel;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.Random;

import static dev.shears.tensor.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

class RmsNormTest {
    @ParameterizedTest(name = "dim {0}")
    @ValueSource(ints = {1, 7, 8, 9, 15, 16, 17, 64, 100})
    void simdMatchesScalarTwin(int dim) {
        Random r = new Random(dim);
        int rows = 3;
        float[] x = new float[rows * dim];
        float[] w = new float[dim];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian() * 3;
        for (int i = 0; i < dim; i++) w[i] = 1 + 0.1f * (float) r.nextGaussian();
        float[] out = new float[x.length];
        float[] ref = new float[x.length];
        float[] rstd = new float[rows];
        float[] rstdRef = new float[rows];
        RmsNorm.forward(out, rstd, x, w, rows, dim, 1e-5f);
        RmsNorm.forwardScalar(ref, rstdRef, x, w, rows, dim, 1e-5f);
        assertClose("rstd", rstdRef, rstd, 1e-7, 1e-5);
        assertClose("out", ref, out, 1e-6, 1e-5);

        float[] ones = new float[dim];
        Arrays.fill(ones, 1f);
        float[] masked = new float[x.length];
        RmsNorm.forwardMasked(masked, new float[rows], x, w, ones, rows, dim, 1e-5f);
        assertArrayEquals(out, masked, "all gates on must equal the plain norm bit for bit");
    }

    @ParameterizedTest(name = "dim {0}")
    @ValueSource(ints = {2, 9, 33})
    void maskedNormEqualsNormOfKeptChannels(int dim) {
        Random r = new Random(dim);
        float[] gate = new float[dim];
        float[] x = new float[dim];
        float[] w = new float[dim];
        int kept = 0;
        for (int c = 0; c < dim; c++) {
            gate[c] = c % 3 == 1 ? 0f : 1f;
            x[c] = gate[c] * (float) r.nextGaussian();
            w[c] = (float) r.nextGaussian();
            if (gate[c] != 0) kept++;
        }
        float[] out = new float[dim];
        RmsNorm.forwardMasked(out, new float[1], x, w, gate, 1, dim, 1e-5f);
        float[] xs = new float[kept];
        float[] ws = new float[kept];
        for (int c = 0, j = 0; c < dim; c++) {
            if (gate[c] != 0) {
                xs[j] = x[c];
                ws[j++] = w[c];
            }
        }
        float[] sliced = new float[kept];
        RmsNorm.forwardScalar(sliced, new float[1], xs, ws, 1, kept, 1e-5f);
        for (int c = 0, j = 0; c < dim; c++) {
            if (gate[c] != 0) assertClose("channel " + c, new float[] {sliced[j++]}, new float[] {out[c]}, 1e-6, 1e-5);
        }
    }
}
