package dev.shears.recipe;

import dev.shears.benchmark.ThroughputBenchmark;
import dev.shears.model.Architecture;
import dev.shears.model.ModelConfig;
import dev.shears.progress.Progress;
import org.junit.jupiter.api.Test;

import java.util.Optional;
import java.util.OptionalDouble;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BenchRunTest {
    private static final ModelConfig TINY = ModelConfig.uniform(Architecture.LLAMA, 32, 2, 4, 2, 8, 64, 128, 32, 1e-5f, 10000, false, false);

    @Test
    void forwardAndTrainOnASyntheticModelBesideTheGivenOrMeasuredPeak() {
        for (ThroughputBenchmark.Mode mode : ThroughputBenchmark.Mode.values()) {
            BenchRun.Result r = BenchRun.run(new BenchRun.Request(Optional.empty(), TINY, mode, 2, 16, 1, 1, 2, OptionalDouble.of(123.0)), Progress.SILENT);
            assertEquals(TINY.parameterCount(), r.params());
            assertEquals(123.0, r.peakGflops());
            assertEquals(mode, r.throughput().mode());
            assertTrue(r.throughput().tokensPerSecond() > 0 && r.throughput().gflops() > 0, mode + ": " + r.throughput());
        }
        BenchRun.Result measured = BenchRun.run(new BenchRun.Request(Optional.empty(), TINY, ThroughputBenchmark.Mode.FORWARD, 1, 16, 1, 0, 1,
                OptionalDouble.empty()), Progress.SILENT);
        assertTrue(measured.peakGflops() > 1, "a measured FMA peak: " + measured.peakGflops());
    }

    @Test
    void aTrainingStepCountsTheTokensOfAllItsMicroBatches() {
        BenchRun.Result r = BenchRun.run(new BenchRun.Request(Optional.empty(), TINY, ThroughputBenchmark.Mode.TRAIN, 2, 16, 3, 1, 3, OptionalDouble.of(123.0)),
                Progress.SILENT);
        ThroughputBenchmark.Result t = r.throughput();
        assertEquals(3 * 2 * 16 / t.secondsMedian(), t.tokensPerSecond(), 1e-9 * t.tokensPerSecond());
    }
}
