package dev.shears.tensor;

import jdk.incubator.vector.FloatVector;

/**
 * Reductions across vector lanes in a fixed order. {@code FloatVector.reduceLanes(ADD)} may add the
 * lanes in any order, and the interpreter and the JIT compiler do choose differently, so the same
 * call can give different bits before and after warm-up. Bit-identical results (resume equals no
 * interruption) need this fixed-order sum instead.
 */
public final class Lanes {
    private Lanes() {
    }

    /** {@code v[0] + v[1] + ... + v[n-1]}, left to right. */
    public static float sum(FloatVector v) {
        float[] lanes = v.toArray();
        float s = 0;
        for (float lane : lanes) s += lane;
        return s;
    }
}
