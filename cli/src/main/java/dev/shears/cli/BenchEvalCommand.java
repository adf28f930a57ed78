package dev.shears.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.eval.ContextStart;
import dev.shears.eval.EvalSettings;
import dev.shears.eval.LoglikelihoodScorer;
import dev.shears.eval.TaskResult;
import dev.shears.recipe.EvalRun;
import dev.shears.tensor.Parallel;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.TypeConversionException;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Locale;
import java.util.Optional;

/** {@code shears bench eval}: scoring throughput of one task (items/s), after an untimed warm-up run. */
@Command(name = "eval", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Scoring throughput of one zero-shot task: items/s and scored tokens/s of a timed run after an untimed",
                "warm-up run on the first items (JIT). Scoring is forward-only with the shared context of each item computed once;",
                "--batching per-item runs the path before packing (one item per thread) to compare against."},
        footerHeading = "%nExamples:%n",
        footer = {"  shears bench eval ../shared/data/models/stories260K/stories260K.bin --tokenizer ../shared/data/models/stories260K/tok512.bin \\",
                "      --task hellaswag --limit 200",
                "  shears bench eval model/ --task piqa --limit 500 --batch 32 --json",
                "  shears --threads 2 bench eval model/ --task hellaswag --limit 100 --batching per-item"})
final class BenchEvalCommand implements Runnable {
    @Parameters(index = "0", paramLabel = "MODEL[=TOKENIZER]", description = "A Hugging Face folder, .gguf or llama2.c .bin, optionally =its tokenizer.")
    String model;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "The model's tokenizer (else MODEL=TOKENIZER or the one beside the model).")
    Path tokenizer;

    @Option(names = "--task", defaultValue = "hellaswag", description = "Task name or task file.")
    String task;

    @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "../shared/data/eval", description = "Folder of the evaluation data.")
    Path dataDir;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "200", description = "Items in the timed run (first N).")
    int limit;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "32", description = "Items of the untimed warm-up run.")
    int warmup;

    @Option(names = "--batch", paramLabel = "N", description = "Items scored together (packed: one forward pass; per-item: one per thread at a time).")
    int batch = EvalSettings.DEFAULTS.batchSize();

    @Option(names = "--batching", paramLabel = "HOW", defaultValue = "packed", converter = BatchingConverter.class, completionCandidates = BatchingNames.class,
            description = "packed (a batch's contexts and choices in one forward pass) or per-item (each item's context into a KV cache, then each choice; one item per thread): ${COMPLETION-CANDIDATES}.")
    LoglikelihoodScorer.Batching batching;

    @Mixin
    JsonOutput output;

    @Override
    public void run() {
        EvalSettings settings = new EvalSettings(limit, EvalSettings.Sampling.FIRST, 0, batch, 0, ContextStart.BOS);
        TaskResult r = EvalRun.throughput(model, Optional.ofNullable(tokenizer), task, dataDir, settings, warmup, batching);
        double tokensPerSecond = r.tokens() / r.seconds();
        if (output.json) {
            ObjectNode n = Json.object();
            n.put("model", model).put("task", r.task()).put("items", r.items()).put("seconds", r.seconds())
                    .put("items_per_second", r.itemsPerSecond()).put("scored_tokens_per_second", tokensPerSecond)
                    .put("batch", batch).put("batching", name(batching)).put("threads", Parallel.threads());
            output.print(n);
        } else {
            output.out().printf(Locale.ROOT, "%s on %s: %d items in %.2f s = %.1f items/s (%.0f scored tokens/s; batch %d %s, %d threads)%n",
                    r.task(), model, r.items(), r.seconds(), r.itemsPerSecond(), tokensPerSecond, batch, name(batching), Parallel.threads());
        }
    }

    /** The option's spelling of a batching: packed, per-item. */
    static String name(LoglikelihoodScorer.Batching b) {
        return b.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    static final class BatchingConverter implements ITypeConverter<LoglikelihoodScorer.Batching> {
        @Override
        public LoglikelihoodScorer.Batching convert(String value) {
            for (LoglikelihoodScorer.Batching b : LoglikelihoodScorer.Batching.values()) {
                if (name(b).equals(value)) return b;
            }
            throw new TypeConversionException("expected one of packed, per-item, got '" + value + "'");
        }
    }

    static final class BatchingNames implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return Arrays.stream(LoglikelihoodScorer.Batching.values()).map(BenchEvalCommand::name).iterator();
        }
    }
}
