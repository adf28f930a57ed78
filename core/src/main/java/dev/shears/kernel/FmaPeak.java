package dev.shears.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The machine's fp32 fused multiply-add peak, measured rather than looked up: 12 independent FMA
 * chains of preferred-width vectors, enough to cover the FMA latency on current x86 and ARM cores.
 * The chains converge to a fixed point (multiplier &lt; 1), so values stay normal.
 */
public final class FmaPeak {
    public static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Independent accumulator chains. */
    public static final int CHAINS = 12;

    private FmaPeak() {
    }

    /** Floating-point operations done by {@link #run} with {@code iterations}. */
    public static long flops(long iterations) {
        return iterations * CHAINS * S.length() * 2L;
    }

    /** {@code iterations} steps of 12 independent vector FMAs; returns a value that depends on all of them. */
    public static float run(long iterations, float seed) {
        FloatVector m = FloatVector.broadcast(S, 0.999f);
        FloatVector add = FloatVector.broadcast(S, 1e-3f);
        FloatVector a0 = FloatVector.broadcast(S, seed), a1 = a0.add(1), a2 = a0.add(2), a3 = a0.add(3),
                a4 = a0.add(4), a5 = a0.add(5), a6 = a0.add(6), a7 = a0.add(7), a8 = a0.add(8), a9 = a0.add(9),
                a10 = a0.add(10), a11 = a0.add(11);
        for (long i = 0; i < iterations; i++) {
            a0 = a0.fma(m, add);
            a1 = a1.fma(m, add);
            a2 = a2.fma(m, add);
            a3 = a3.fma(m, add);
            a4 = a4.fma(m, add);
            a5 = a5.fma(m, add);
            a6 = a6.fma(m, add);
            a7 = a7.fma(m, add);
            a8 = a8.fma(m, add);
            a9 = a9.fma(m, add);
            a10 = a10.fma(m, add);
            a11 = a11.fma(m, add);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11).lane(0);
    }

    /**
     * Measured peak in GFLOP/s with {@code threads} threads running the loop at once (each thread its
     * own core's FMA units), the best of many short timed rounds after a warm-up, so that a shared,
     * noisy machine still shows what its cores can do.
     */
    public static double measure(int threads, double seconds) throws InterruptedException {
        long iterations = 200_000; // about 25 ms a round at 100 GFLOP/s: many rounds, keep the best
        for (int i = 0; i < 20; i++) sink = run(iterations, 1f); // warm-up and JIT
        double best = 0;
        long end = System.nanoTime() + (long) (seconds * 1e9);
        do {
            Thread[] ts = new Thread[threads];
            long t0 = System.nanoTime();
            for (int t = 0; t < threads; t++) {
                float seed = t;
                ts[t] = new Thread(() -> sink = run(iterations * 5, seed));
                ts[t].start();
            }
            for (Thread t : ts) t.join();
            double s = (System.nanoTime() - t0) / 1e9;
            best = Math.max(best, flops(iterations * 5) * threads / s / 1e9);
        } while (System.nanoTime() < end);
        return best;
    }

    private static volatile float sink;
}
