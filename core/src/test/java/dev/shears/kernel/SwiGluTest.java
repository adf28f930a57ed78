package dev.shears.kernel;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

class SwiGluTest {
    private static float[] random(Random r, int n, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian() * scale);
        return x;
    }

    @ParameterizedTest(name = "n {0}")
    @ValueSource(ints = {0, 1, 15, 16, 17, 33, 100, 1376})
    void simdMatchesScalarTwinBitForBit(int n) {
        Random r = new Random(n);
        float[] gate = random(r, n, 4), up = random(r, n, 1), dOut = random(r, n, 1);
        float[] out = new float[n], outRef = new float[n];
        SwiGlu.forward(out, gate, up, n);
        SwiGlu.forwardScalar(outRef, gate, up, 0, n);
        assertArrayEquals(outRef, out);
        float[] dGate = random(r, n, 1), dUp = random(r, n, 1);
        float[] dGateRef = dGate.clone(), dUpRef = dUp.clone();
        SwiGlu.backward(dGate, dUp, dOut, gate, up, n);
        SwiGlu.backwardScalar(dGateRef, dUpRef, dOut, gate, up, 0, n);
        assertArrayEquals(dGateRef, dGate);
        assertArrayEquals(dUpRef, dUp);
    }
}
