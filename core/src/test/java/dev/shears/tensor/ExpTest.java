package dev.shears.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExpTest {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Edge cases, 16 of them: whole vectors for 4, 8 and 16 lanes (AVX2 machines have 8, AVX-512 ones 16). */
    private static final float[] SPECIAL = {0f, -0f, 1f, -1f, 87f, -87f, 88f, 100f, -100f, Float.NaN, 0.5f, -0.5f, 1e-7f, 20f, -20f, 0.3465736f};

    @Test
    void vectorLanesEqualTheScalarTwinBitForBit() {
        Random r = new Random(3);
        float[] x = new float[S.length()];
        float[] y = new float[S.length()];
        for (int trial = 0; trial < 20_000; trial++) {
            for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(5) - 2));
            if (trial < SPECIAL.length / x.length) System.arraycopy(SPECIAL, trial * x.length, x, 0, x.length);
            Exp.exp(FloatVector.fromArray(S, x, 0)).intoArray(y, 0);
            for (int i = 0; i < x.length; i++) {
                assertEquals(Float.floatToRawIntBits(Exp.exp(x[i])), Float.floatToRawIntBits(y[i]), "exp(" + x[i] + ")");
            }
        }
    }

    @Test
    void withinTwoUlpOfMathExp() {
        for (float x = -87f; x <= 88f; x += 0.00731f) {
            float expected = (float) Math.exp(x);
            float got = Exp.exp(x);
            assertTrue(Math.abs(got - expected) <= 2 * Math.ulp(expected), "exp(" + x + ") = " + got + ", expected " + expected);
        }
        assertEquals(1f, Exp.exp(0f));
        assertEquals(Exp.exp(88f), Exp.exp(1000f));
        assertTrue(Exp.exp(-1000f) > 0f);
    }
}
