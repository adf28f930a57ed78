package dev.shears.bench;

import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * How the kernel benchmarks measure, in one place (JMH's annotations are inherited): average
 * microseconds per call, 3 warm-up and 5 measured iterations of 1 s, one fork with the Vector API
 * and the parallel GC, the benchmark object as the shared state. A subclass that needs longer
 * iterations puts its own {@code @Warmup} and {@code @Measurement} on itself; those win.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-XX:+UseParallelGC"})
public abstract class MicrosecondsPerCall {
}
