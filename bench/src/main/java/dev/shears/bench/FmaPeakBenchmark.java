package dev.shears.bench;

import dev.shears.kernel.FmaPeak;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Single-thread fp32 FMA peak: one operation is one vector FMA (2 × lanes flops). GFLOP/s =
 * score (ops/ns) × 2 × lanes; {@link MatMulReport} prints it already converted. Run with
 * {@code -t N} for N threads at once.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
public class FmaPeakBenchmark {
    private static final int ITERATIONS = 1 << 20;
    private float seed = 1f;

    @Benchmark
    @OperationsPerInvocation(ITERATIONS * FmaPeak.CHAINS)
    public float vectorFma() {
        return FmaPeak.run(ITERATIONS, seed);
    }
}
