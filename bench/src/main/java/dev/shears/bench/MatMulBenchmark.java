package dev.shears.bench;

import dev.shears.kernel.MatMul;
import dev.shears.kernel.MatMulScalar;
import dev.shears.tensor.Parallel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

import java.util.Random;

/**
 * {@link MatMul} against {@link MatMulScalar} at transformer shapes ("rows x in x out"). Scores are
 * microseconds per call; GFLOP/s = 2·rows·in·out / time. {@code threads} sets the kernel threads
 * ({@code 0} = all cores). Example:
 * {@code java -jar bench/target/benchmarks.jar MatMulBenchmark -p threads=1 -p impl=simd}.
 */
public class MatMulBenchmark extends MicrosecondsPerCall {
    @Param({"512x512x1376", "512x1376x512", "1x512x1376", "1x1376x512"})
    public String shape;
    @Param({"simd", "scalar"})
    public String impl;
    @Param({"1", "0"})
    public int threads;

    private int rows, in, out;
    private float[] x, w, y, dOut, dX, dW;

    @Setup(Level.Trial)
    public void setUp() {
        int[] p = setUp(shape, threads);
        rows = p[0];
        in = p[1];
        out = p[2];
        Random r = new Random(1);
        x = fill(r, rows * in);
        w = fill(r, out * in);
        dOut = fill(r, rows * out);
        y = new float[rows * out];
        dX = new float[rows * in];
        dW = new float[out * in];
    }

    @Benchmark
    public float[] forward() {
        if (impl.equals("simd")) MatMul.forward(y, x, w, rows, in, out);
        else MatMulScalar.forward(y, x, w, rows, in, out);
        return y;
    }

    @Benchmark
    public float[] backwardInput() {
        if (impl.equals("simd")) MatMul.backwardInput(dX, dOut, w, rows, in, out);
        else MatMulScalar.backwardInput(dX, dOut, w, rows, in, out);
        return dX;
    }

    @Benchmark
    public float[] backwardWeight() {
        if (impl.equals("simd")) MatMul.backwardWeight(dW, dOut, x, rows, in, out);
        else MatMulScalar.backwardWeight(dW, dOut, x, rows, in, out);
        return dW;
    }

    /** Parses "rows x in x out" and sets the kernel threads (0 = all cores). */
    static int[] setUp(String shape, int threads) {
        Parallel.setThreads(threads == 0 ? Runtime.getRuntime().availableProcessors() : threads);
        return shape(shape);
    }

    /** "rows x in x out", e.g. {@code 256x2048x5632}, as {rows, in, out}. */
    static int[] shape(String shape) {
        return java.util.Arrays.stream(shape.split("x")).mapToInt(Integer::parseInt).toArray();
    }

    static float[] fill(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian() * 0.1f;
        return a;
    }
}
