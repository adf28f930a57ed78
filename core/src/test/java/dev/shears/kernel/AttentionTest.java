package dev.shears.kernel;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

import static dev.shears.tensor.Close.assertClose;

class AttentionTest {
    private static float[] random(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    @ParameterizedTest(name = "queries {0}, start {1}, heads {2}/{3}, headDim {4}")
    @CsvSource({"1,0,1,1,2", "5,0,4,2,8", "7,3,6,3,7", "9,0,8,1,9", "17,5,4,4,16", "3,11,2,1,18", "33,0,2,2,64"})
    void simdMatchesScalarTwin(int queries, int start, int heads, int kvHeads, int headDim) {
        Random r = new Random(queries * 31L + headDim);
        Attention.Shape shape = new Attention.Shape(queries, start, heads, kvHeads, headDim);
        int keys = shape.keys();
        int qOff = 3;
        int kvOff = 5;
        float[] q = random(r, qOff + queries * heads * headDim);
        float[] k = random(r, kvOff + keys * kvHeads * headDim);
        float[] v = random(r, kvOff + keys * kvHeads * headDim);
        float[] ctx = new float[queries * heads * headDim];
        float[] probs = new float[heads * queries * keys];
        float[] ctxRef = new float[ctx.length];
        float[] probsRef = new float[probs.length];
        Attention.forward(ctx, 0, probs, 0, q, qOff, k, v, kvOff, shape);
        Attention.forwardScalar(ctxRef, 0, probsRef, 0, q, qOff, k, v, kvOff, shape);
        assertClose("probs", probsRef, probs, 1e-6, 1e-5);
        assertClose("context", ctxRef, ctx, 1e-5, 1e-5);

        float[] ctxInference = new float[ctx.length];
        Attention.forwardInference(ctxInference, 0, q, qOff, k, v, kvOff, shape);
        assertClose("inference context", ctx, ctxInference, 0, 0);
    }

    @ParameterizedTest(name = "n {0}, count {1}, rows {2}")
    @CsvSource({"1,1,1", "7,5,4", "16,4,3", "17,9,4", "64,13,2", "100,3,4", "128,8,1", "48,33,4", "9,16,4", "64,17,4"})
    void scoresAreFmaChainsAgainstTheTransposedKeys(int n, int count, int rows) {
        Random r = new Random(n * 7L + count + rows);
        int stride = n + 3, qStride = n + 2;
        float[] q = random(r, 2 + rows * qStride);
        float[] k = random(r, 5 + count * stride);
        int ldk = HeadProducts.padded(count);
        float[] kt = new float[n * ldk];
        HeadProducts.transpose(kt, ldk, k, 5, stride, count, n);
        float[] out = new float[1 + HeadProducts.ROWS * ldk];
        HeadProducts.scores(out, 1, ldk, q, 2, qStride, rows, kt, ldk, count, n);
        float[] expected = new float[count];
        for (int row = 0; row < rows; row++) {
            HeadProducts.scoresScalar(expected, 0, q, 2 + row * qStride, k, 5, stride, count, n);
            for (int j = 0; j < count; j++) {
                assertEquals(Float.floatToRawIntBits(expected[j]), Float.floatToRawIntBits(out[1 + row * ldk + j]), "row " + row + " key " + j);
            }
        }
    }

    @ParameterizedTest(name = "n {0}, count {1}")
    @CsvSource({"1,1", "7,5", "16,4", "17,9", "48,13", "64,3", "100,7", "128,8", "200,2", "64,0"})
    void fourRowsAccumulateAsFourSingleRows(int n, int count) {
        Random r = new Random(n * 13L + count);
        int xStride = n + 5, wStride = 3, wRowStride = 1 + count * wStride, yStride = n + 1;
        float[] w = random(r, 1 + 4 * wRowStride);
        float[] x = random(r, 2 + count * xStride);
        float[] y = random(r, 4 + 4 * yStride);
        float[] expected = y.clone();
        for (int row = 0; row < 4; row++) {
            HeadProducts.accumulate(expected, 4 + row * yStride, w, 1 + row * wRowStride, wStride, x, 2, xStride, count, n);
        }
        HeadProducts.accumulate4(y, 4, yStride, w, 1, wRowStride, wStride, x, 2, xStride, count, n);
        for (int d = 0; d < y.length; d++) assertEquals(Float.floatToRawIntBits(expected[d]), Float.floatToRawIntBits(y[d]), "element " + d);
    }

    @ParameterizedTest(name = "n {0}, count {1}")
    @CsvSource({"1,1", "7,5", "16,4", "17,9", "48,13", "64,3", "100,7", "128,8", "200,2"})
    void accumulateIsAnOrderedLoopOfMultiplyAdds(int n, int count) {
        Random r = new Random(n * 31L + count);
        int xStride = n + 5, wStride = 3;
        float[] w = random(r, 1 + count * wStride);
        float[] x = random(r, 2 + count * xStride);
        float[] y = random(r, 4 + n);
        float[] expected = y.clone();
        int vectorPart = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.loopBound(n);
        for (int t = 0; t < count; t++) {
            for (int d = 0; d < n; d++) {
                float wt = w[1 + t * wStride], xt = x[2 + t * xStride + d];
                expected[4 + d] = d < vectorPart ? Math.fma(xt, wt, expected[4 + d]) : expected[4 + d] + wt * xt;
            }
        }
        HeadProducts.accumulate(y, 4, w, 1, wStride, x, 2, xStride, count, n);
        for (int d = 0; d < y.length; d++) assertEquals(Float.floatToRawIntBits(expected[d]), Float.floatToRawIntBits(y[d]), "element " + d);
    }

    @org.junit.jupiter.api.Test
    void laneSumsFollowTheirScalarTwin() {
        Random r = new Random(5);
        int n = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
        for (int trial = 0; trial < 200; trial++) {
            float[] lanes = new float[n];
            for (int i = 0; i < n; i++) lanes[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(8) - 4));
            float vector = dev.shears.tensor.Lanes.sum(jdk.incubator.vector.FloatVector.fromArray(jdk.incubator.vector.FloatVector.SPECIES_PREFERRED, lanes, 0));
            assertEquals(Float.floatToRawIntBits(dev.shears.tensor.Lanes.sumScalar(lanes)), Float.floatToRawIntBits(vector));
        }
    }

    /**
     * Packed segments (two roots, continuations of the whole and of part of a root, a one-row segment): each
     * segment's context is bit for bit that of its sequence attended alone, its prefix in front as a cache, and
     * close to the scalar twin.
     */
    @ParameterizedTest(name = "heads {0}/{1}, headDim {2}")
    @CsvSource({"1,1,2", "4,2,8", "6,3,7", "8,1,16", "2,2,64"})
    void packedSegmentsAttendAsTheirSequencesAlone(int heads, int kvHeads, int headDim) {
        Random r = new Random(heads * 17L + headDim);
        // rows: A [0, 7) | B continues A's first 5, [7, 10) | C [10, 11) | D continues all of A, [11, 20) | E continues C, [20, 24)
        int[] start = {0, 7, 10, 11, 20}, length = {7, 3, 1, 9, 4}, prefixStart = {0, 0, 10, 0, 10}, prefixLength = {0, 5, 0, 7, 1};
        Attention.Segments segments = new Attention.Segments(start, length, prefixStart, prefixLength);
        int rows = 24, qWidth = heads * headDim, kvWidth = kvHeads * headDim;
        float[] q = random(r, rows * qWidth), k = random(r, rows * kvWidth), v = random(r, rows * kvWidth);
        float[] ctx = new float[rows * qWidth];
        Attention.forwardPacked(ctx, q, k, v, segments, heads, kvHeads, headDim);
        for (int s = 0; s < segments.count(); s++) {
            int n = length[s], p = prefixLength[s];
            float[] keys = new float[(p + n) * kvWidth], values = new float[(p + n) * kvWidth];
            System.arraycopy(k, prefixStart[s] * kvWidth, keys, 0, p * kvWidth);
            System.arraycopy(v, prefixStart[s] * kvWidth, values, 0, p * kvWidth);
            System.arraycopy(k, start[s] * kvWidth, keys, p * kvWidth, n * kvWidth);
            System.arraycopy(v, start[s] * kvWidth, values, p * kvWidth, n * kvWidth);
            float[] queries = java.util.Arrays.copyOfRange(q, start[s] * qWidth, (start[s] + n) * qWidth);
            Attention.Shape shape = new Attention.Shape(n, p, heads, kvHeads, headDim);
            float[] alone = new float[n * qWidth];
            Attention.forwardInference(alone, 0, queries, 0, keys, values, 0, shape);
            float[] packed = java.util.Arrays.copyOfRange(ctx, start[s] * qWidth, (start[s] + n) * qWidth);
            assertClose("segment " + s + " packed vs alone", alone, packed, 0, 0);
            float[] scalar = new float[n * qWidth];
            Attention.forwardScalar(scalar, 0, new float[heads * n * (p + n)], 0, queries, 0, keys, values, 0, shape);
            assertClose("segment " + s + " vs the scalar twin", scalar, packed, 1e-5, 1e-5);
        }
    }
}
