package dev.shears.recipe;

import dev.shears.ShearsException;
import dev.shears.dist.Collective;
import dev.shears.eval.EvalSettings;
import dev.shears.eval.Evaluator;
import dev.shears.eval.Metric;
import dev.shears.eval.TaskFile;
import dev.shears.eval.TaskGroup;
import dev.shears.eval.TaskResult;
import dev.shears.progress.Progress;
import dev.shears.seq2seq.EncoderDecoder;
import dev.shears.tokenizer.Tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A pipeline stage that scores the current model on zero-shot tasks (as {@code shears eval}); the
 * model passes through unchanged.
 *
 * @param tasks   built-in task names or task files
 * @param dataDir the evaluation data folder (relative to the pipeline file)
 * @param limit   items per task (0: all)
 * @param seed    seeds the item sample
 * @param context context length (0: the model's)
 * @param numFewshot few-shot examples before each document (as {@code shears eval --num-fewshot})
 * @param sample  which items with a limit: {@code seeded} or {@code first} (lm-eval's {@code --limit})
 */
public record EvalStage(List<String> tasks, String dataDir, int limit, long seed, int context, int numFewshot, String sample) implements StageSettings {
    @Override
    public String kind() {
        return "eval";
    }

    public static final EvalStage DEFAULT = new EvalStage(List.of(), "", 200, 1234, 0, 0, "seeded");

    public EvalStage {
        tasks = tasks == null ? List.of() : List.copyOf(tasks);
        dataDir = dataDir == null ? "" : dataDir;
        if (limit < 0) throw new ShearsException("limit must be ≥ 0, got " + limit);
        if (numFewshot < 0) throw new ShearsException("numFewshot must be ≥ 0, got " + numFewshot);
        sample = sample == null ? "seeded" : sample;
        if (!sample.equals("seeded") && !sample.equals("first")) throw new ShearsException("sample must be seeded or first, got \"" + sample + "\"");
    }

    /** Checks the tasks and the data folder; returns the tasks (groups expanded) and groups. */
    EvalRun.Resolved resolve(Path base) {
        if (tasks.isEmpty()) throw new ShearsException("tasks: name at least one task, e.g. [tinystories, lambada_openai]");
        if (dataDir.isBlank()) throw new ShearsException("dataDir: the evaluation data folder is needed (e.g. ../shared/data/eval)");
        if (!Files.isDirectory(base.resolve(dataDir))) throw new ShearsException("dataDir: " + base.resolve(dataDir) + " does not exist");
        return EvalRun.Resolved.of(tasks.stream().map(t -> TaskFile.isTaskFile(t) ? base.resolve(t).toString() : t).toList());
    }

    /**
     * Runs every task on the model at {@code model} (a decoder-only model with its tokenizer, or an encoder–decoder folder scored as
     * {@code shears eval} scores one), its items shared over the ranks of {@code collective}; returns per task (and group), metric name → value.
     */
    Map<String, Map<String, Double>> run(Path model, Optional<Path> tokenizer, Path base, Progress progress, Collective collective) {
        EvalSettings.Sampling sampling = sample.equals("first") ? EvalSettings.Sampling.FIRST : EvalSettings.Sampling.SEEDED;
        EvalSettings d = EvalSettings.DEFAULTS;
        EvalSettings settings = new EvalSettings(limit, sampling, seed, d.batchSize(), context, d.start(), numFewshot);
        EvalRun.Resolved resolved = resolve(base);
        List<Evaluator.Items> items = resolved.tasks().stream().map(t -> Evaluator.load(t, base.resolve(dataDir), settings)).toList();
        List<TaskResult> results;
        Optional<EncoderDecoder> encoderDecoder = EncoderDecoder.load(model);
        if (encoderDecoder.isPresent()) {
            Tokenizer tok = ModelSource.seq2seqTokenizer(model, tokenizer, encoderDecoder.get().vocabSize());
            List<TaskResult> leaves = new ArrayList<>();
            for (Evaluator.Items i : items) leaves.add(Evaluator.run(encoderDecoder.get(), tok, i, settings, progress, sample -> { }, collective));
            results = new ArrayList<>(leaves);
            for (TaskGroup g : resolved.groups()) results.add(g.aggregate(leaves));
        } else {
            try (LoadedModel loaded = ModelSource.open(model, tokenizer)) {
                results = resolved.run(loaded, items, t -> settings, progress, sample -> { }, collective);
            }
        }
        Map<String, Map<String, Double>> metrics = new LinkedHashMap<>();
        for (TaskResult r : results) {
            Map<String, Double> t = metrics.computeIfAbsent(r.task(), k -> new LinkedHashMap<>());
            for (Metric m : r.metrics()) t.put(m.name(), m.value());
        }
        return metrics;
    }
}
