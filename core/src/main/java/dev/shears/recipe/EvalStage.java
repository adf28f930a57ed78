package dev.shears.recipe;

import dev.shears.ShearsException;
import dev.shears.eval.EvalSettings;
import dev.shears.eval.Evaluator;
import dev.shears.eval.Metric;
import dev.shears.eval.Task;
import dev.shears.eval.TaskCatalog;
import dev.shears.eval.TaskFile;
import dev.shears.eval.TaskResult;
import dev.shears.progress.Progress;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A pipeline stage that scores the current model on zero-shot tasks (as {@code shears eval}); the
 * model passes through unchanged.
 *
 * @param tasks   built-in task names or task files
 * @param dataDir the evaluation data folder (relative to the pipeline file)
 * @param limit   items per task (0: all)
 * @param seed    seeds the item sample
 * @param context context length (0: the model's)
 */
public record EvalStage(List<String> tasks, String dataDir, int limit, long seed, int context) implements StageSettings {
    @Override
    public String kind() {
        return "eval";
    }

    public static final EvalStage DEFAULT = new EvalStage(List.of(), "", 200, 1234, 0);

    public EvalStage {
        tasks = tasks == null ? List.of() : List.copyOf(tasks);
        dataDir = dataDir == null ? "" : dataDir;
        if (limit < 0) throw new ShearsException("limit must be ≥ 0, got " + limit);
    }

    /** Checks the tasks and the data folder; returns the tasks. */
    List<Task> resolve(Path base) {
        if (tasks.isEmpty()) throw new ShearsException("tasks: name at least one task, e.g. [tinystories, lambada_openai]");
        if (dataDir.isBlank()) throw new ShearsException("dataDir: the evaluation data folder is needed (e.g. ../shared/data/eval)");
        if (!Files.isDirectory(base.resolve(dataDir))) throw new ShearsException("dataDir: " + base.resolve(dataDir) + " does not exist");
        return tasks.stream().map(t -> TaskFile.isTaskFile(t) ? TaskFile.load(base.resolve(t)) : TaskCatalog.task(t.strip())).toList();
    }

    /** Scores {@code model}; every metric goes into {@code summary.metrics.<task>.<metric>}. */
    /** Runs every task on {@code model}; returns per task, metric name → value. */
    Map<String, Map<String, Double>> run(LoadedModel model, Path base, Progress progress) {
        EvalSettings settings = EvalSettings.DEFAULTS.withLimit(limit);
        settings = new EvalSettings(settings.limit(), settings.sampling(), seed, settings.batchSize(), context, settings.start());
        Map<String, Map<String, Double>> metrics = new LinkedHashMap<>();
        for (Task task : resolve(base)) {
            TaskResult r = Evaluator.run(model.model(), model.tokenizer(), Evaluator.load(task, base.resolve(dataDir), settings), settings, progress);
            Map<String, Double> t = metrics.computeIfAbsent(r.task(), k -> new LinkedHashMap<>());
            for (Metric m : r.metrics()) t.put(m.name(), m.value());
        }
        return metrics;
    }
}
