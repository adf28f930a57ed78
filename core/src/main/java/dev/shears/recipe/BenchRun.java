package dev.shears.recipe;

import dev.shears.benchmark.ThroughputBenchmark;
import dev.shears.dist.Collective;
import dev.shears.dist.SingleProcess;
import dev.shears.format.ModelLoader;
import dev.shears.kernel.FmaPeak;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.progress.Progress;
import dev.shears.tensor.Parallel;
import dev.shears.train.InitConfig;
import dev.shears.train.ModelInit;

import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalDouble;

/** {@code shears bench forward|train}: throughput of a checkpoint or of a synthetic model, beside this machine's FMA peak. */
public final class BenchRun {
    private BenchRun() {
    }

    /**
     * @param model        a checkpoint, or empty for a randomly initialised model of {@code synthetic}'s shape
     * @param accumulation micro-batches per training step, over all ranks
     * @param peakGflops   the FMA peak of all the threads (of all the ranks) together; empty to measure it (1 s of vector FMAs)
     */
    public record Request(Optional<Path> model, ModelConfig synthetic, ThroughputBenchmark.Mode mode, int batch, int seq, int accumulation, int warmup,
                          int iterations, OptionalDouble peakGflops) {
    }

    public record Result(ThroughputBenchmark.Result throughput, long params, double peakGflops) {
    }

    /** Runs the benchmark in one process. */
    public static Result run(Request r, Progress progress) {
        return run(r, progress, new SingleProcess());
    }

    /**
     * Runs the benchmark on every rank of {@code collective} alike (training only, when there are several): each
     * measures the FMA peak of its own threads at the same time, and the peak reported is their sum.
     */
    public static Result run(Request r, Progress progress, Collective collective) {
        // forward reads the weights mapped in their file's dtype, as every inference command does; training needs fp32 copies
        try (Model m = r.model().map(p -> r.mode() == ThroughputBenchmark.Mode.FORWARD ? ModelLoader.open(p) : ModelLoader.load(p))
                .orElseGet(() -> ModelInit.initialize(r.synthetic(), InitConfig.DEFAULT))) {
            double[] peak = {r.peakGflops().isPresent() ? r.peakGflops().getAsDouble() / collective.size() : measuredPeak()};
            collective.allReduceSum(peak);
            ThroughputBenchmark.Result t = ThroughputBenchmark.run(m, r.mode(), r.batch(), r.seq(), r.accumulation(), r.warmup(), r.iterations(),
                    collective, progress);
            return new Result(t, m.config().parameterCount(), peak[0]);
        }
    }

    /** The FMA peak of {@link Parallel#threads()} threads, measured now. */
    private static double measuredPeak() {
        try {
            return FmaPeak.measure(Parallel.threads(), 1.0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while measuring the FMA peak", e);
        }
    }
}
