package dev.shears.bench;

import dev.shears.kernel.Attention;
import dev.shears.kernel.SwiGlu;
import dev.shears.tensor.Parallel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

import java.util.Random;

/**
 * The training step's non-matmul kernels at the {@code bench train} shape (512 tokens, 8 heads of 64, FFN
 * 1376), SIMD next to the scalar twin: attention forward (scalar twin in double) and backward, SwiGLU forward
 * and backward. Microseconds per call, one thread. Example:
 * {@code java -jar bench/target/benchmarks.jar KernelBenchmark}.
 */
public class KernelBenchmark extends MicrosecondsPerCall {
    private static final int SEQ = 512, HEADS = 8, HEAD_DIM = 64, FFN = 1376;

    @Param({"simd", "scalar"})
    public String impl;

    private final Attention.Shape shape = new Attention.Shape(SEQ, 0, HEADS, HEADS, HEAD_DIM);
    private float[] q, k, v, ctx, probs, dQ, dK, dV, dCtx, gate, up, hidden, dGate, dUp;

    @Setup(Level.Trial)
    public void setUp() {
        Parallel.setThreads(1);
        Random r = new Random(1);
        int width = HEADS * HEAD_DIM;
        q = MatMulBenchmark.fill(r, SEQ * width);
        k = MatMulBenchmark.fill(r, SEQ * width);
        v = MatMulBenchmark.fill(r, SEQ * width);
        dCtx = MatMulBenchmark.fill(r, SEQ * width);
        ctx = new float[SEQ * width];
        dQ = new float[SEQ * width];
        dK = new float[SEQ * width];
        dV = new float[SEQ * width];
        probs = new float[HEADS * SEQ * SEQ];
        Attention.forward(ctx, 0, probs, 0, q, 0, k, v, 0, shape);
        gate = MatMulBenchmark.fill(r, SEQ * FFN);
        up = MatMulBenchmark.fill(r, SEQ * FFN);
        hidden = new float[SEQ * FFN];
        dGate = new float[SEQ * FFN];
        dUp = new float[SEQ * FFN];
    }

    @Benchmark
    public float[] attentionForward() {
        if (impl.equals("simd")) Attention.forward(ctx, 0, probs, 0, q, 0, k, v, 0, shape);
        else Attention.forwardScalar(ctx, 0, probs, 0, q, 0, k, v, 0, shape);
        return ctx;
    }

    /** No scalar twin: the scalar impl runs the SIMD backward too (compare with the finite-difference tests instead). */
    @Benchmark
    public float[] attentionBackward() {
        Attention.backward(dQ, dK, dV, dCtx, 0, 0, probs, 0, q, k, v, shape);
        return dQ;
    }

    @Benchmark
    public float[] swiGluForward() {
        if (impl.equals("simd")) SwiGlu.forward(hidden, gate, up, SEQ * FFN);
        else SwiGlu.forwardScalar(hidden, gate, up, 0, SEQ * FFN);
        return hidden;
    }

    @Benchmark
    public float[] swiGluBackward() {
        if (impl.equals("simd")) SwiGlu.backward(dGate, dUp, hidden, gate, up, SEQ * FFN);
        else SwiGlu.backwardScalar(dGate, dUp, hidden, gate, up, 0, SEQ * FFN);
        return dGate;
    }
}
