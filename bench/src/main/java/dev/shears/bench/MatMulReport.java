package dev.shears.bench;

import dev.shears.kernel.FmaPeak;
import dev.shears.kernel.MatMul;
import dev.shears.kernel.MatMulScalar;
import dev.shears.tensor.Parallel;

import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

/**
 * Prints, per shape and op, GFLOP/s of {@link MatMul} on 1 thread and on all threads, and the
 * fraction of the measured FMA peak ({@link FmaPeak}) for the same thread count; the scalar twin on
 * one thread for scale. Every op and shape is warmed up (JIT-compiled) before any is timed; a
 * timing is the best of repeated calls, as is the peak, so that the fraction compares like with
 * like and a noisy, shared machine still shows what the kernels can do. For rows = 1 (generation,
 * memory-bound) the weight bandwidth in GB/s is 2 × the GFLOP/s figure.
 *
 * <p>Usage: {@code java --add-modules=jdk.incubator.vector -cp bench/target/benchmarks.jar
 * dev.shears.bench.MatMulReport [seconds per measurement, default 1] [--no-scalar] [ROWSxINxOUT ...]}
 * (shapes given replace the default ones).
 */
public final class MatMulReport {
    private static final int[][] DEFAULT_SHAPES = {{512, 512, 1376}, {512, 1376, 512}, {1, 512, 1376}, {1, 1376, 512}, {1, 4096, 4096}};
    private static final String[] OPS = {"forward", "backwardInput", "backwardWeight"};

    private MatMulReport() {
    }

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 && !args[0].startsWith("--") ? Double.parseDouble(args[0]) : 1.0;
        boolean scalar = !Arrays.asList(args).contains("--no-scalar");
        int[][] given = Arrays.stream(args).filter(a -> a.matches("\\d+x\\d+x\\d+"))
                .map(MatMulBenchmark::shape).toArray(int[][]::new);
        int[][] shapes = given.length > 0 ? given : DEFAULT_SHAPES;
        int cores = Runtime.getRuntime().availableProcessors();
        for (int[] s : shapes) { // JIT warm-up of every path before anything is timed
            for (String op : OPS) {
                if (s[0] == 1 && !op.equals("forward")) continue;
                for (int threads : new int[] {1, cores}) {
                    Parallel.setThreads(threads);
                    time(op, s, false, 0.3);
                }
            }
        }
        double peak1 = FmaPeak.measure(1, seconds);
        double peakN = FmaPeak.measure(cores, seconds);
        System.out.printf(Locale.ROOT, "vector species %s, %d cores%n", FmaPeak.S, cores);
        System.out.printf(Locale.ROOT, "measured FMA peak: %.1f GFLOP/s on 1 thread, %.1f GFLOP/s on %d threads%n%n", peak1, peakN, cores);
        System.out.printf(Locale.ROOT, "| rows x in x out | op | scalar 1T GFLOP/s | SIMD 1T GFLOP/s | of 1T peak | SIMD %dT GFLOP/s | of %dT peak |%n", cores, cores);
        System.out.println("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
        for (int[] s : shapes) {
            for (String op : OPS) {
                if (s[0] == 1 && !op.equals("forward")) continue;
                double flops = 2.0 * s[0] * s[1] * s[2];
                String sc = "";
                if (scalar && (long) s[0] * s[1] * s[2] <= 512L * 512 * 1376) {
                    Parallel.setThreads(1);
                    sc = String.format(Locale.ROOT, "%.2f", flops / time(op, s, true, Math.min(seconds, 1.0)) / 1e9);
                }
                Parallel.setThreads(1);
                double g1 = flops / time(op, s, false, seconds) / 1e9;
                Parallel.setThreads(cores);
                double gN = flops / time(op, s, false, seconds) / 1e9;
                System.out.printf(Locale.ROOT, "| %dx%dx%d | %s | %s | %.1f | %.0f%% | %.1f | %.0f%% |%n",
                        s[0], s[1], s[2], op, sc, g1, 100 * g1 / peak1, gN, 100 * gN / peakN);
            }
        }
    }

    /** Best seconds per call. */
    private static double time(String op, int[] s, boolean scalar, double seconds) {
        int rows = s[0], in = s[1], out = s[2];
        Random r = new Random(1);
        float[] x = MatMulBenchmark.fill(r, rows * in);
        float[] w = MatMulBenchmark.fill(r, out * in);
        float[] dOut = MatMulBenchmark.fill(r, rows * out);
        float[] y = new float[rows * out];
        float[] dX = new float[rows * in];
        float[] dW = new float[out * in];
        Runnable call = switch (op) {
            case "forward" -> scalar ? () -> MatMulScalar.forward(y, x, w, rows, in, out) : () -> MatMul.forward(y, x, w, rows, in, out);
            case "backwardInput" -> scalar ? () -> MatMulScalar.backwardInput(dX, dOut, w, rows, in, out) : () -> MatMul.backwardInput(dX, dOut, w, rows, in, out);
            default -> scalar ? () -> MatMulScalar.backwardWeight(dW, dOut, x, rows, in, out) : () -> MatMul.backwardWeight(dW, dOut, x, rows, in, out);
        };
        long warmEnd = System.nanoTime() + (long) (seconds * 0.3e9);
        do call.run(); while (System.nanoTime() < warmEnd);
        double[] times = new double[100_000];
        int n = 0;
        long end = System.nanoTime() + (long) (seconds * 1e9);
        do {
            long t0 = System.nanoTime();
            call.run();
            times[n++] = (System.nanoTime() - t0) / 1e9;
        } while (System.nanoTime() < end && n < times.length);
        Arrays.sort(times, 0, n);
        return times[0];
    }
}
