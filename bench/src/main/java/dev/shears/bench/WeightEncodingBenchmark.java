package dev.shears.bench;

import dev.shears.kernel.MatMul;
import dev.shears.tensor.DenseTensor;
import dev.shears.tensor.Encoding;
import dev.shears.tensor.MappedTensor;
import dev.shears.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

/**
 * {@link MatMul#forward} with the weight in each encoding a mapped model file can hold, read in place
 * from off-heap memory as from a mapped file ({@code f32-heap} is the fp32 array kernel). Shapes are
 * TinyLlama's FFN up projection: prompt processing ({@code 256x2048x5632}, compute-bound: the goal is
 * bf16 ≥ 90% of fp32) and generation ({@code 1x2048x5632}, memory-bound: bf16 reads half the bytes).
 * Scores are microseconds per call; GFLOP/s = 2·rows·in·out / time. Example:
 * {@code java -jar bench/target/benchmarks.jar WeightEncodingBenchmark -p threads=1}.
 */
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class WeightEncodingBenchmark extends MicrosecondsPerCall {
    @Param({"256x2048x5632", "1x2048x5632"})
    public String shape;
    @Param({"f32-heap", "f32", "bf16", "f16", "q8_0"})
    public String encoding;
    @Param({"1", "0"})
    public int threads;

    private int rows, in, out;
    private float[] x, y;
    private Tensor weight;
    private Arena arena;

    @Setup(Level.Trial)
    public void setUp() {
        int[] p = MatMulBenchmark.setUp(shape, threads);
        rows = p[0];
        in = p[1];
        out = p[2];
        Random r = new Random(1);
        x = MatMulBenchmark.fill(r, rows * in);
        y = new float[rows * out];
        float[] w = MatMulBenchmark.fill(r, out * in);
        if (encoding.equals("f32-heap")) {
            weight = new DenseTensor(w, out, in);
            return;
        }
        Encoding e = Encoding.valueOf(encoding.toUpperCase(java.util.Locale.ROOT));
        arena = Arena.ofShared();
        MemorySegment s = arena.allocate(e.bytes((long) out * in), 64);
        ValueLayout.OfShort i16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < w.length; i++) {
            switch (e) {
                case F32 -> s.set(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4L * i, w[i]);
                case F16, BF16 -> s.set(i16, 2L * i, (short) e.encode16(w[i]));
                case Q8_0 -> {
                    long block = 34L * (i / 32);
                    if (i % 32 == 0) s.set(i16, block, (short) Encoding.F16.encode16(0.01f));
                    s.set(ValueLayout.JAVA_BYTE, block + 2 + i % 32, (byte) Math.max(-127, Math.min(127, Math.round(w[i] / 0.01f))));
                }
            }
        }
        weight = MappedTensor.of(s, e, out, in);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (arena != null) arena.close();
    }

    @Benchmark
    public float[] forward() {
        MatMul.forward(y, x, weight, rows, in, out);
        return y;
    }
}
