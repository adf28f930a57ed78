package dev.shears.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Reductions across vector lanes in a fixed order. {@code FloatVector.reduceLanes(ADD)} may add the
 * lanes in any order, and the interpreter and the JIT compiler do choose differently, so the same
 * call can give different bits before and after warm-up. Bit-identical results (resume equals no
 * interruption) need this fixed-order sum instead: a pairwise tree of lane-wise additions (lane i
 * plus lane i + n/2, then the same on the first half, ...), without allocation.
 */
public final class Lanes {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorShuffle<Float>[] HALVES = halves();

    private Lanes() {
    }

    /** The sum of the lanes of a {@link FloatVector#SPECIES_PREFERRED} vector, in a fixed tree order. */
    public static float sum(FloatVector v) {
        if (v.species() != S) throw new IllegalArgumentException("Lanes.sum expects SPECIES_PREFERRED vectors, got " + v.species());
        for (VectorShuffle<Float> half : HALVES) v = v.add(v.rearrange(half));
        return v.lane(0);
    }

    /** The same sum as {@link #sum} over an array of {@code S.length()} values: the scalar twin. */
    public static float sumScalar(float[] lanes) {
        float[] x = lanes.clone();
        for (int width = x.length / 2; width >= 1; width /= 2) {
            for (int i = 0; i < width; i++) x[i] = x[i] + x[i + width];
        }
        return x[0];
    }

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] halves() {
        int n = S.length();
        int steps = Integer.numberOfTrailingZeros(n);
        VectorShuffle<Float>[] shuffles = new VectorShuffle[steps];
        for (int k = 0, width = n / 2; k < steps; k++, width /= 2) {
            int w = width;
            shuffles[k] = VectorShuffle.fromOp(S, i -> (i + w) % n);
        }
        return shuffles;
    }
}
