package dev.shears.kernel;

import dev.shears.kernel.BiasedAttention.Mask;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Arrays;
import java.util.Random;
import java.util.function.Supplier;

import static dev.shears.tensor.GradCheck.check;
import static dev.shears.tensor.GradCheck.gaussian;
import static dev.shears.tensor.GradCheck.project;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The backward passes of T5's kernels ({@link GeluNew}, {@link Relu}, {@link RelativePositionBias},
 * {@link BiasedAttention}) against central finite differences of their forwards, the loss a random
 * projection of the output accumulated in double; gelu_new's derivative also in pure double arithmetic.
 */
class T5KernelGradientTest {
    private static final double EPS = 1e-2;
    private static final double ATOL = 2e-3;
    private static final double RTOL = 2e-2;

    @Test
    void geluNewIsTheTanhApproximation() {
        // 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))) at x = 1 and -2, by hand; erf-GELU would give 0.8413447 and -0.0455003
        assertEquals(0.8411919906082768, GeluNew.value(1.0), 1e-15);
        assertEquals(-0.04540230591222, GeluNew.value(-2.0), 1e-13);
        assertEquals(0.0, GeluNew.value(0.0), 0.0);
    }

    @Test
    void geluNewDerivativeInDouble() {
        double h = 1e-6;
        for (double x = -6; x <= 6; x += 0.125) {
            double numeric = (GeluNew.value(x + h) - GeluNew.value(x - h)) / (2 * h);
            assertEquals(numeric, GeluNew.derivative(x), 1e-8, "gelu_new'(" + x + ")");
        }
    }

    @Test
    void gatedGelu() {
        Random r = new Random(31);
        int n = 40;
        float[] gate = gaussian(r, n, 2);
        float[] up = gaussian(r, n, 1);
        float[] proj = gaussian(r, n, 1);
        float[] out = new float[n];
        Supplier<Double> loss = () -> {
            GeluNew.forwardGated(out, gate, up, n);
            return project(out, proj);
        };
        float[] dGate = new float[n];
        float[] dUp = new float[n];
        GeluNew.backwardGated(dGate, dUp, proj, gate, up, n);
        check("gated gelu dGate", gate, dGate, loss, n, EPS, ATOL, RTOL);
        check("gated gelu dUp", up, dUp, loss, n, EPS, ATOL, RTOL);
    }

    @Test
    void relu() {
        Random r = new Random(32);
        int n = 40;
        float[] x = gaussian(r, n, 1);
        for (int i = 0; i < n; i++) if (Math.abs(x[i]) < 0.05f) x[i] = 0.5f;   // away from the kink, where differences are one-sided
        float[] proj = gaussian(r, n, 1);
        float[] out = new float[n];
        Supplier<Double> loss = () -> {
            Relu.forward(out, x, n);
            return project(out, proj);
        };
        float[] dX = new float[n];
        Relu.backward(dX, proj, x, n);
        check("relu dX", x, dX, loss, n, EPS, ATOL, RTOL);
    }

    @Test
    void relativePositionBias() {
        Random r = new Random(33);
        int numBuckets = 8, tableHeads = 4, qLen = 7, kLen = 9;
        int[] columns = {3, 0, 2};   // a pruned layer's heads keep their own columns
        int heads = columns.length;
        int[] buckets = RelativePositionBias.buckets(qLen, kLen, RelativePositionBias.Direction.BIDIRECTIONAL, numBuckets, 20);
        float[] table = gaussian(r, numBuckets * tableHeads, 1);
        float[] proj = gaussian(r, heads * qLen * kLen, 1);
        float[] bias = new float[heads * qLen * kLen];
        Supplier<Double> loss = () -> {
            RelativePositionBias.forward(bias, table, buckets, columns, tableHeads, qLen, kLen);
            return project(bias, proj);
        };
        float[] dTable = new float[table.length];
        RelativePositionBias.backward(dTable, proj, buckets, columns, tableHeads, qLen, kLen);
        check("position bias dTable", table, dTable, loss, table.length, EPS, ATOL, RTOL);
        for (int b = 0; b < numBuckets; b++) assertEquals(0f, dTable[b * tableHeads + 1], "column 1 is read by no head");
    }

    /** Causal self-attention, and cross-attention (kLen ≠ qLen) with padded keys in one sequence: every input's gradient. */
    @ParameterizedTest
    @EnumSource(Mask.class)
    void unscaledAttentionWithBias(Mask mask) {
        Random r = new Random(34 + mask.ordinal());
        int batch = 2, heads = 3, headDim = 4, qLen = 5;
        int kLen = mask == Mask.CAUSAL ? qLen : 7;
        int width = heads * headDim;
        float[] q = gaussian(r, batch * qLen * width, 1);
        float[] k = gaussian(r, batch * kLen * width, 1);
        float[] v = gaussian(r, batch * kLen * width, 1);
        float[] bias = gaussian(r, heads * qLen * kLen, 1);
        float[] proj = gaussian(r, batch * qLen * width, 1);
        boolean[] keyVisible = new boolean[batch * kLen];
        Arrays.fill(keyVisible, true);
        if (mask == Mask.NONE) keyVisible[2 * kLen - 1] = keyVisible[2 * kLen - 2] = false;   // sequence 1 ends in two padding keys
        float[] ctx = new float[proj.length];
        float[] probs = new float[batch * heads * qLen * kLen];
        Supplier<Double> loss = () -> {
            BiasedAttention.forward(ctx, probs, q, k, v, bias, mask, keyVisible, batch, qLen, kLen, heads, headDim);
            return project(ctx, proj);
        };
        loss.get();
        float[] dQ = new float[q.length];
        float[] dK = new float[k.length];
        float[] dV = new float[v.length];
        float[] dBias = new float[bias.length];
        BiasedAttention.backward(dQ, dK, dV, dBias, proj, probs, q, k, v, batch, qLen, kLen, heads, headDim);
        check("attention dQ " + mask, q, dQ, loss, 200, EPS, ATOL, RTOL);
        check("attention dK " + mask, k, dK, loss, 200, EPS, ATOL, RTOL);
        check("attention dV " + mask, v, dV, loss, 200, EPS, ATOL, RTOL);
        check("attention dBias " + mask, bias, dBias, loss, 200, EPS, ATOL, RTOL);
        for (int j = 0; j < batch * kLen; j++) {
            for (int c = 0; !keyVisible[j] && c < width; c++) {
                assertEquals(0f, dK[j * width + c], "a padding key takes no gradient");
                assertEquals(0f, dV[j * width + c], "a padding value takes no gradient");
            }
        }
    }

    /** No 1/√headDim: one key gets all the weight, so the context is its value; the causal mask hides later keys. */
    @Test
    void attentionIsNotScaledAndCausalHidesTheFuture() {
        int heads = 1, headDim = 2, len = 2;
        float[] q = {1, 0, 1, 0};
        float[] k = {1, 0, 0, 0};
        float[] v = {10, 0, 0, 20};
        float[] bias = new float[len * len];
        float[] ctx = new float[len * headDim];
        float[] probs = new float[len * len];
        boolean[] all = {true, true};
        BiasedAttention.forward(ctx, probs, q, k, v, bias, Mask.NONE, all, 1, len, len, heads, headDim);
        double p0 = Math.exp(1) / (Math.exp(1) + 1);   // scores q·k = (1, 0), unscaled
        assertEquals(p0, probs[0], 1e-7);
        assertEquals(10 * p0, ctx[0], 1e-5);
        BiasedAttention.forward(ctx, probs, q, k, v, bias, Mask.CAUSAL, all, 1, len, len, heads, headDim);
        assertEquals(1.0, probs[0], 0.0);
        assertEquals(0.0, probs[1], 0.0);
        assertEquals(10.0, ctx[0], 0.0);
        BiasedAttention.forward(ctx, probs, q, k, v, bias, Mask.NONE, new boolean[]{false, true}, 1, len, len, heads, headDim);
        assertEquals(0.0, probs[0], 0.0, "a padding key gets no weight");
        assertEquals(20.0, ctx[1], 0.0);
    }
}
