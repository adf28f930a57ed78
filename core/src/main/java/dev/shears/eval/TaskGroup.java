package dev.shears.eval;

import dev.shears.ShearsException;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * A group of tasks reported as one, as lm-evaluation-harness aggregates a group ({@code Group.aggregate} in
 * {@code lm_eval/api/group.py} at 4e7e0d47f): each metric of the group's {@code aggregate_metric_list} over its
 * leaf tasks, {@code aggregate_subtask_metrics} (the mean weighted by each task's scored items when
 * {@code weight_by_size}) with {@code pooled_sample_stderr} as its standard error
 * ({@code lm_eval/api/metrics.py} lines 590–650).
 *
 * @param name      lm-eval's group name ({@code mmlu}, {@code mmlu_stem}, …)
 * @param leaves    the names of its leaf tasks
 * @param metrics   {@code aggregate_metric_list}
 * @param reference the YAML it follows
 */
public record TaskGroup(String name, List<String> leaves, List<String> metrics, String reference) {
    public TaskGroup {
        leaves = List.copyOf(leaves);
        metrics = List.copyOf(metrics);
        if (leaves.isEmpty()) throw new IllegalArgumentException("a group needs tasks");
    }

    /** The group's result from its leaves' results (which {@code results} must hold, by task name). */
    public TaskResult aggregate(List<TaskResult> results) {
        Map<String, TaskResult> byName = results.stream().collect(Collectors.toMap(TaskResult::task, Function.identity(), (a, b) -> a));
        List<TaskResult> members = new ArrayList<>();
        for (String leaf : leaves) {
            TaskResult r = byName.get(leaf);
            if (r == null) throw new ShearsException("group " + name + ": task " + leaf + " was not run");
            members.add(r);
        }
        List<Metric> out = new ArrayList<>();
        for (String metric : metrics) out.add(weightedBySize(metric, members));
        int items = 0, available = 0, shots = members.get(0).shots();
        long tokens = 0;
        double seconds = 0;
        List<String> notes = new ArrayList<>();
        for (TaskResult r : members) {
            items += r.items();
            available += r.available();
            tokens += r.tokens();
            seconds += r.seconds();
            if (r.shots() != shots) shots = -1;
            if (!r.notes().isEmpty()) notes.add(r.task() + ": " + String.join("; ", r.notes()));
        }
        return new TaskResult(name, TaskKind.MULTIPLE_CHOICE, reference, items, available, out, tokens, seconds, Math.max(shots, 0), notes);
    }

    /** {@code aggregate_subtask_metrics(weight_by_size=True)} and {@code pooled_sample_stderr}. */
    static Metric weightedBySize(String metric, List<TaskResult> members) {
        double sum = 0, pooled = 0;
        long n = 0;
        for (TaskResult r : members) {
            Metric m = r.metric(metric).orElseThrow(() -> new ShearsException(r.task() + " has no metric " + metric));
            sum += m.value() * r.items();
            pooled += (r.items() - 1) * m.stderr() * m.stderr() * r.items();
            n += r.items();
        }
        double stderr = Math.sqrt(pooled / (n - members.size()) / n);
        return new Metric(metric, sum / n, stderr);
    }
}
