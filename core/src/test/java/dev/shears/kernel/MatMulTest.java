package dev.shears.kernel;

import dev.shears.tensor.DenseTensor;
import dev.shears.tensor.Parallel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static dev.shears.tensor.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** {@link MatMul} against its scalar twin {@link MatMulScalar}, and its determinism over thread counts. */
class MatMulTest {
    private static final int THREADS = Parallel.threads();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(THREADS);
    }

    /** Awkward sizes: 1, below/at/above a vector, odd primes, more than a K block, a parallel tile and a micro-tile. */
    static Stream<Arguments> shapes() {
        int[] rows = {1, 2, 3, 4, 5, 6, 7, 13, 17, 33};
        int[] dims = {1, 3, 7, 16, 17, 33, 100, 300};
        List<Arguments> all = new ArrayList<>();
        Random r = new Random(7);
        for (int rowCount : rows) {
            for (int in : dims) {
                for (int out : dims) {
                    // every (in, out) pair for a few row counts, a random third of the rest
                    if (rowCount == 1 || rowCount == 7 || rowCount == 33 || r.nextInt(3) == 0) all.add(Arguments.of(rowCount, in, out));
                }
            }
        }
        all.add(Arguments.of(70, 531, 290));
        all.add(Arguments.of(8, 2, 600));
        return all.stream();
    }

    @ParameterizedTest(name = "rows {0} in {1} out {2}")
    @MethodSource("shapes")
    void simdMatchesScalarTwin(int rows, int in, int out) {
        Random r = new Random(31L * rows + 7L * in + out);
        float[] x = gaussian(r, rows * in);
        float[] w = gaussian(r, out * in);
        float[] dOut = gaussian(r, rows * out);
        double atolIn = 1e-5 * Math.sqrt(in), atolOut = 1e-5 * Math.sqrt(out), atolRows = 1e-5 * Math.sqrt(rows);

        float[] y = new float[rows * out];
        float[] yRef = new float[rows * out];
        Arrays.fill(y, Float.NaN); // forward overwrites
        MatMul.forward(y, x, w, rows, in, out);
        MatMulScalar.forward(yRef, x, w, rows, in, out);
        assertClose("forward", yRef, y, atolIn, 1e-5);

        float[] dX = gaussian(r, rows * in); // backward accumulates into what is there
        float[] dXRef = dX.clone();
        MatMul.backwardInput(dX, dOut, w, rows, in, out);
        MatMulScalar.backwardInput(dXRef, dOut, w, rows, in, out);
        assertClose("backwardInput", dXRef, dX, atolOut, 1e-5);

        float[] dW = gaussian(r, out * in);
        float[] dWRef = dW.clone();
        MatMul.backwardWeight(dW, dOut, x, rows, in, out);
        MatMulScalar.backwardWeight(dWRef, dOut, x, rows, in, out);
        assertClose("backwardWeight", dWRef, dW, atolRows, 1e-5);
    }

    /** The blocked path promises one exact order per element: fma over k ascending, from 0 or the existing value. */
    @ParameterizedTest(name = "rows {0} in {1} out {2}")
    @MethodSource("shapes")
    void blockedPathIsOneFmaChainPerElement(int rows, int in, int out) {
        Random r = new Random(5L * rows + 3L * in + out);
        float[] x = gaussian(r, rows * in);
        float[] w = gaussian(r, out * in);
        float[] dOut = gaussian(r, rows * out);
        if (rows > MatMul.SKINNY_ROWS) {
            float[] y = new float[rows * out];
            MatMul.forward(y, x, w, rows, in, out);
            float[] ref = new float[rows * out];
            fmaChains(ref, x, w, rows, in, out); // y[i][o] = Σ_k x[i][k] w[o][k]
            assertArrayEquals(ref, y, "forward");
        }
        // the row-independent forward takes the blocked path for any row count, skinny ones included
        float[] y = new float[rows * out];
        MatMul.forwardRowIndependent(y, x, new DenseTensor(w, out, in), null, rows, in, out);
        float[] chains = new float[rows * out];
        fmaChains(chains, x, w, rows, in, out);
        assertArrayEquals(chains, y, "forwardRowIndependent");
        float[] dX = gaussian(r, rows * in);
        float[] ref = dX.clone();
        MatMul.backwardInput(dX, dOut, w, rows, in, out);
        fmaChains(ref, dOut, transpose(w, out, in), rows, out, in); // dX[i][j] += Σ_o dOut[i][o] w[o][j]
        assertArrayEquals(ref, dX, "backwardInput");
        float[] dW = gaussian(r, out * in);
        float[] refW = dW.clone();
        MatMul.backwardWeight(dW, dOut, x, rows, in, out);
        fmaChains(refW, transpose(dOut, rows, out), transpose(x, rows, in), out, rows, in); // dW[o][j] += Σ_i dOut[i][o] x[i][j]
        assertArrayEquals(refW, dW, "backwardWeight");
    }

    /**
     * The order the blocked path promises, as a forward: {@code y[i][o] = fma(a[i][len-1], b[o][len-1], … fma(a[i][0], b[o][0], y[i][o]))},
     * one chain per element over k ascending, starting from the value already in {@code y}. The backward ops are this
     * forward on transposes, so one reference states the promise for all three.
     *
     * @param y [n, m], accumulated into
     * @param a [n, len]
     * @param b [m, len]
     */
    private static void fmaChains(float[] y, float[] a, float[] b, int n, int len, int m) {
        for (int i = 0; i < n; i++) {
            for (int o = 0; o < m; o++) {
                float s = y[i * m + o];
                for (int k = 0; k < len; k++) s = Math.fma(a[i * len + k], b[o * len + k], s);
                y[i * m + o] = s;
            }
        }
    }

    /** [cols, rows] from [rows, cols]. */
    private static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[a.length];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
        }
        return t;
    }

    @Test
    void bitIdenticalForAnyThreadCountAndRun() {
        int[][] cases = {{1, 300, 530}, {3, 517, 129}, {70, 531, 290}, {130, 257, 1100}, {512, 64, 40}};
        for (int[] c : cases) {
            int rows = c[0], in = c[1], out = c[2];
            Random r = new Random(rows + in + out);
            float[] x = gaussian(r, rows * in);
            float[] w = gaussian(r, out * in);
            float[] bias = gaussian(r, out);
            float[] dOut = gaussian(r, rows * out);
            float[] dX0 = gaussian(r, rows * in);
            float[] dW0 = gaussian(r, out * in);
            float[][] first = null;
            for (int threads : new int[] {1, 2, 3, 2, 1}) {
                Parallel.setThreads(threads);
                float[] y = new float[rows * out];
                MatMul.forward(y, x, w, rows, in, out);
                float[] yb = new float[rows * out];
                MatMul.forward(yb, x, w, bias, rows, in, out);
                float[] dX = dX0.clone();
                MatMul.backwardInput(dX, dOut, w, rows, in, out);
                float[] dW = dW0.clone();
                MatMul.backwardWeight(dW, dOut, x, rows, in, out);
                float[][] now = {y, yb, dX, dW};
                if (first == null) {
                    first = now;
                } else {
                    String at = Arrays.toString(c) + " with " + threads + " threads: ";
                    assertArrayEquals(first[0], now[0], at + "forward");
                    assertArrayEquals(first[1], now[1], at + "forward with bias");
                    assertArrayEquals(first[2], now[2], at + "backwardInput");
                    assertArrayEquals(first[3], now[3], at + "backwardWeight");
                }
            }
        }
    }

    @ParameterizedTest(name = "rows {0} in {1} out {2}")
    @MethodSource("shapes")
    void biasIsAddedAfterTheSum(int rows, int in, int out) {
        Random r = new Random(rows * 1000L + in * 10L + out);
        float[] x = gaussian(r, rows * in);
        float[] w = gaussian(r, out * in);
        float[] bias = gaussian(r, out);
        float[] y = new float[rows * out];
        MatMul.forward(y, x, w, rows, in, out);
        for (int i = 0; i < y.length; i++) y[i] += bias[i % out];
        float[] yb = new float[rows * out];
        Arrays.fill(yb, Float.NaN);
        MatMul.forward(yb, x, w, bias, rows, in, out);
        assertArrayEquals(y, yb, "forward with bias == forward, then + bias");
        float[] ref = new float[rows * out];
        MatMulScalar.forward(ref, x, w, bias, rows, in, out);
        assertClose("forward with bias", ref, yb, 1e-5 * Math.sqrt(in), 1e-5);
    }

    @Test
    void backwardAccumulatesAndForwardOverwrites() {
        int rows = 9, in = 21, out = 35;
        Random r = new Random(3);
        float[] x = gaussian(r, rows * in);
        float[] w = gaussian(r, out * in);
        float[] dOut = gaussian(r, rows * out);
        float[] once = new float[rows * in];
        MatMul.backwardInput(once, dOut, w, rows, in, out);
        float[] twice = new float[rows * in];
        MatMul.backwardInput(twice, dOut, w, rows, in, out);
        MatMul.backwardInput(twice, dOut, w, rows, in, out);
        float[] doubled = once.clone();
        for (int i = 0; i < doubled.length; i++) doubled[i] *= 2;
        assertClose("dX twice", doubled, twice, 1e-5, 1e-5);
        float[] dWOnce = new float[out * in];
        MatMul.backwardWeight(dWOnce, dOut, x, rows, in, out);
        float[] dWTwice = new float[out * in];
        MatMul.backwardWeight(dWTwice, dOut, x, rows, in, out);
        MatMul.backwardWeight(dWTwice, dOut, x, rows, in, out);
        for (int i = 0; i < dWOnce.length; i++) dWOnce[i] *= 2;
        assertClose("dW twice", dWOnce, dWTwice, 1e-5, 1e-5);

        for (int n : new int[] {1, rows}) {
            float[] y = new float[n * out];
            Arrays.fill(y, 1e30f);
            MatMul.forward(y, x, w, n, in, out);
            float[] again = y.clone();
            MatMul.forward(again, x, w, n, in, out);
            assertArrayEquals(y, again, "forward overwrites, rows " + n);
        }
    }

    @Test
    void emptyInnerDimension() {
        float[] y = {5f, 5f, 5f, 5f, 5f, 5f, 5f, 5f, 5f, 5f, 5f, 5f, 5f, 5f};
        MatMul.forward(y, new float[0], new float[0], 7, 0, 2);
        for (float v : y) assertFalse(v != 0f, "forward over inDim 0 is 0");
        MatMul.forward(y, new float[0], new float[0], new float[] {1, 2}, 7, 0, 2);
        assertArrayEquals(new float[] {1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2}, y);
        float[] dW = {3f, 4f};
        MatMul.backwardWeight(dW, new float[0], new float[0], 0, 1, 2);
        assertArrayEquals(new float[] {3f, 4f}, dW, "no rows adds nothing");
    }

    private static float[] gaussian(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }
}
