package dev.shears.eval;

import java.util.List;
import java.util.Optional;

/**
 * A task's scores on one model.
 *
 * @param task      the task's name
 * @param kind      how it was scored
 * @param reference the format it follows
 * @param items     items scored
 * @param available items in the task's file
 * @param metrics   named numbers, in report order
 * @param tokens    continuation (or document) tokens scored
 * @param seconds   wall time of the scoring
 * @param shots     few-shot examples in each context (0: zero-shot)
 * @param notes     where the run differs from lm-eval's (a split that is not in the data folder, a fallback)
 */
public record TaskResult(String task, TaskKind kind, String reference, int items, int available, List<Metric> metrics, long tokens, double seconds,
                         int shots, List<String> notes) {
    public TaskResult {
        metrics = List.copyOf(metrics);
        notes = List.copyOf(notes);
    }

    public TaskResult(String task, TaskKind kind, String reference, int items, int available, List<Metric> metrics, long tokens, double seconds) {
        this(task, kind, reference, items, available, metrics, tokens, seconds, 0, List.of());
    }

    public double itemsPerSecond() {
        return seconds > 0 ? items / seconds : Double.NaN;
    }

    public Optional<Metric> metric(String name) {
        return metrics.stream().filter(m -> m.name().equals(name)).findFirst();
    }
}
