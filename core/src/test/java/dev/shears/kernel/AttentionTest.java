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
        Attention.forwardInference(ctxInference, 0, new float[heads * keys], q, qOff, k, v, kvOff, shape);
        assertClose("inference context", ctx, ctxInference, 0, 0);
    }

    @ParameterizedTest(name = "n {0}, count {1}")
    @CsvSource({"1,1", "7,5", "16,4", "17,9", "64,13", "100,3", "128,8"})
    void dotsEqualDotBitForBit(int n, int count) {
        Random r = new Random(n * 7L + count);
        int stride = n + 3;
        float[] a = random(r, 2 + n);
        float[] b = random(r, 5 + count * stride);
        float[] out = new float[1 + count];
        Attention.dots(out, 1, a, 2, b, 5, stride, count, n, new float[64]);
        for (int j = 0; j < count; j++) {
            assertEquals(Float.floatToRawIntBits(Attention.dot(a, 2, b, 5 + j * stride, n)), Float.floatToRawIntBits(out[1 + j]), "key " + j);
        }
    }
}
