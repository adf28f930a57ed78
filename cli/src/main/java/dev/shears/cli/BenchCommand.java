package dev.shears.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.benchmark.ThroughputBenchmark;
import dev.shears.dist.Collective;
import dev.shears.model.Architecture;
import dev.shears.model.ModelConfig;
import dev.shears.progress.Progress;
import dev.shears.recipe.BenchRun;
import dev.shears.tensor.Parallel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;

/** {@code shears bench}: end-to-end throughput programs. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Measure throughput (tokens/s, GFLOP/s, fraction of peak).",
        subcommands = {BenchCommand.Forward.class, BenchCommand.Train.class, BenchEvalCommand.class})
final class BenchCommand extends CommandGroup {
    @Command(name = "forward", mixinStandardHelpOptions = true, showDefaultValues = true,
            description = {"Prompt-processing throughput of full-sequence forward passes (median of timed passes after warm-up).",
                    "Without MODEL, a seeded random model of the given shape is used."},
            footerHeading = "%nExamples:%n",
            footer = {"  shears bench forward --dim 512 --layers 8 --heads 8 --ffn 1376 --vocab 4096 --seq 512",
                    "  shears bench forward ../shared/data/models/stories260K/hf --seq 512 --threads 1 --json"})
    static final class Forward extends Throughput {
        Forward() {
            super(ThroughputBenchmark.Mode.FORWARD);
        }
    }

    @Command(name = "train", mixinStandardHelpOptions = true, showDefaultValues = true,
            description = {"Training-step throughput: forward, cross-entropy, backward, clipping and AdamW on one step of",
                    "--accumulation micro-batches (median of timed steps after warm-up). GFLOP/s counts 3 × the forward FLOPs",
                    "(model-FLOPs utilisation). Without MODEL, a seeded random model of the given shape is used.",
                    "Under mpirun the ranks share each step's micro-batches as `shears train` does; tokens/s counts them all."},
            footerHeading = "%nExamples:%n",
            footer = {"  shears bench train --dim 512 --layers 8 --heads 8 --ffn 1376 --vocab 4096 --seq 512",
                    "  shears bench train --layers 1 --seq 512 --threads 1 --json",
                    "  shears --threads 2 bench train --accumulation 2 --json                      # one process, two threads",
                    "  mpirun -np 2 ./shears --threads 1 bench train --accumulation 2 --json       # two ranks, one thread each"})
    static final class Train extends Throughput implements Distributed {
        @Option(names = "--accumulation", paramLabel = "A", defaultValue = "1", description = "Micro-batches per step (shared over the ranks under mpirun).")
        int accumulation;

        Train() {
            super(ThroughputBenchmark.Mode.TRAIN);
        }

        @Override
        int accumulation() {
            return accumulation;
        }
    }

    /** The options and the printout shared by both benchmarks. */
    abstract static class Throughput implements Runnable {
        private final ThroughputBenchmark.Mode mode;

        Throughput(ThroughputBenchmark.Mode mode) {
            this.mode = mode;
        }

        @Parameters(index = "0", arity = "0..1", paramLabel = "MODEL", description = "A model to benchmark (default: a synthetic one).")
        Path model;

        @Option(names = "--dim", defaultValue = "512", description = "Synthetic model: hidden size.")
        int dim;
        @Option(names = "--layers", defaultValue = "8", description = "Synthetic model: layers.")
        int layers;
        @Option(names = "--heads", defaultValue = "8", description = "Synthetic model: attention heads.")
        int heads;
        @Option(names = "--kv-heads", description = "Synthetic model: key/value heads (default: --heads).")
        Integer kvHeads;
        @Option(names = "--ffn", defaultValue = "1376", description = "Synthetic model: FFN width.")
        int ffn;
        @Option(names = "--vocab", defaultValue = "4096", description = "Synthetic model: vocabulary size.")
        int vocab;
        @Option(names = "--seq", defaultValue = "512", description = "Tokens per sequence.")
        int seq;
        @Option(names = "--batch", defaultValue = "1", description = "Sequences per pass.")
        int batch;
        @Option(names = "--warmup", defaultValue = "2", description = "Untimed passes first (JIT warm-up).")
        int warmup;
        @Option(names = "--iterations", defaultValue = "5", description = "Timed passes (the median is reported).")
        int iterations;
        @Option(names = "--peak-gflops", paramLabel = "GFLOPS",
                description = "fp32 peak of all the threads together, for the fraction of peak (default: measured before the run, 1 s of vector FMAs on as many threads).")
        Double peakGflops;
        @Mixin
        JsonOutput output;
        @Spec
        CommandSpec spec;

        /** Micro-batches per step: one pass for forward. */
        int accumulation() {
            return 1;
        }

        @Override
        public void run() {
            if (accumulation() < 1) throw new ShearsException("--accumulation must be at least 1, got " + accumulation());
            Collective collective = ((Main) spec.root().userObject()).collective();
            BenchRun.Result b = BenchRun.run(new BenchRun.Request(Optional.ofNullable(model),
                    ModelConfig.uniform(Architecture.LLAMA, dim, layers, heads, kvHeads == null ? heads : kvHeads, dim / heads, ffn, vocab, Math.max(seq, 16),
                            1e-5f, 10000, false, false), mode, batch, seq, accumulation(), warmup, iterations,
                    peakGflops == null ? OptionalDouble.empty() : OptionalDouble.of(peakGflops)), collective.leads() ? ProgressBar.stderr() : Progress.SILENT,
                    collective);
            if (!collective.leads()) return;
            ThroughputBenchmark.Result r = b.throughput();
            double peak = b.peakGflops();
            String what = mode.name().toLowerCase(Locale.ROOT);
            if (output.json) {
                ObjectNode n = Json.object();
                n.put("benchmark", what).put("model", model == null ? "synthetic" : model.toString()).put("params", b.params());
                n.put("batch", batch).put("seq", seq).put("accumulation", accumulation()).put("ranks", collective.size()).put("threads", Parallel.threads());
                n.put("tokens_per_second", r.tokensPerSecond()).put("gflops", r.gflops()).put("fraction_of_peak", r.gflops() / peak)
                        .put("peak_gflops", peak).put("peak_measured", peakGflops == null).put("seconds_median", r.secondsMedian());
                output.print(n);
            } else {
                output.out().printf(Locale.ROOT,
                        "%s %s (%,d params), %d × batch %d × seq %d, %d rank(s) × %d thread(s):%n  %.1f tokens/s, %.1f GFLOP/s, %.1f%% of %.0f GFLOP/s peak (median of %d, %.3f s each)%n",
                        what, model == null ? "synthetic" : model, b.params(), accumulation(), batch, seq, collective.size(), Parallel.threads(),
                        r.tokensPerSecond(), r.gflops(), 100 * r.gflops() / peak, peak, iterations, r.secondsMedian());
            }
        }
    }
}
