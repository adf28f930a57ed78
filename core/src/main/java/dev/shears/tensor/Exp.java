package dev.shears.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * {@code e^x} in fp32 from fused multiply-adds only (Cephes {@code expf}: Moshier 1989, "Methods and
 * Programs for Mathematical Functions"), so that the vector form and its scalar twin give the same bits:
 * {@code x = n·ln2 + r} with n rounded to nearest (by the 1.5·2²³ trick) and |r| ≤ ln2/2, {@code e^r} by a
 * degree-6 polynomial, then scaled by 2ⁿ through the exponent bits. Within 2 ulp of {@link Math#exp}
 * for x in [-87, 88]; arguments are clamped to that range (so no infinities and no subnormals come out).
 */
public final class Exp {
    private static final float LOG2E = 1.44269504088896341f;
    private static final float ROUND = 12582912f; // 1.5·2²³: adding it rounds to an integer
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float MIN = -87f;
    private static final float MAX = 88f;
    private static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f,
            P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    private Exp() {
    }

    /** The scalar twin of {@link #exp(FloatVector)}. */
    public static float exp(float x) {
        x = Math.min(Math.max(x, MIN), MAX);
        float n = Math.fma(x, LOG2E, ROUND) - ROUND;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(P0, r, P1);
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        float y = Math.fma(p, r * r, r) + 1f;
        return y * Float.intBitsToFloat(((int) n + 127) << 23);
    }

    /** Lane-wise {@code e^x}, bit for bit {@link #exp(float)} on each lane. */
    public static FloatVector exp(FloatVector x) {
        x = x.max(MIN).min(MAX);
        FloatVector n = x.fma(LOG2E, ROUND).sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(x.species(), -LN2_HI), x);
        r = n.fma(FloatVector.broadcast(x.species(), -LN2_LO), r);
        FloatVector p = r.fma(P0, P1);
        p = p.fma(r, FloatVector.broadcast(x.species(), P2));
        p = p.fma(r, FloatVector.broadcast(x.species(), P3));
        p = p.fma(r, FloatVector.broadcast(x.species(), P4));
        p = p.fma(r, FloatVector.broadcast(x.species(), P5));
        FloatVector y = p.fma(r.mul(r), r).add(1f);
        IntVector bits = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        return y.mul(bits.reinterpretAsFloats());
    }
}
