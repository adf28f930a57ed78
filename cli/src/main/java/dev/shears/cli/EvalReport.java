package dev.shears.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.eval.EvalSettings;
import dev.shears.eval.Metric;
import dev.shears.eval.Suite;
import dev.shears.eval.Task;
import dev.shears.eval.TaskCatalog;
import dev.shears.eval.TaskResult;
import dev.shears.recipe.EvalRun;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;

/** The side-by-side report of {@code shears eval}: markdown for the console, JSON, and an HTML page with a chart per task. */
final class EvalReport {
    /** One model's results, in task order; the model is closed by then (its config, tokenizer and source remain). */
    record ModelRun(String label, EvalRun.ModelFacts model, List<TaskResult> results) {
    }

    private final List<ModelRun> runs;
    private final EvalSettings settings;
    private final Path dataDir;
    private final List<Task> tasks;
    private final Optional<Suite> suite;

    EvalReport(List<ModelRun> runs, EvalSettings settings, Path dataDir, List<Task> tasks, Optional<Suite> suite) {
        this.runs = List.copyOf(runs);
        this.settings = settings;
        this.dataDir = dataDir;
        this.tasks = List.copyOf(tasks);
        this.suite = suite;
    }

    EvalReport(List<ModelRun> runs, EvalSettings settings, Path dataDir, List<Task> tasks) {
        this(runs, settings, dataDir, tasks, Optional.empty());
    }

    /**
     * The suite's table in the paper's layout: models as rows, the paper's columns in its order (their group headings
     * in the line above, markdown having no spanning cells), then the average.
     */
    String suiteTable() {
        Suite s = suite.orElseThrow();
        StringBuilder md = new StringBuilder("## ").append(s.title()).append("\n\n");
        md.append(String.join(" | ", s.groups().entrySet().stream()
                .map(g -> g.getKey() + ": " + String.join(", ", g.getValue().stream().map(Suite.Column::label).toList())).toList())).append("\n\n");
        md.append("| model |");
        for (Suite.Column c : s.columns()) md.append(' ').append(c.label()).append(" |");
        md.append(" Average |\n|---|").append("---:|".repeat(s.columns().size() + 1)).append('\n');
        for (ModelRun r : runs) {
            md.append("| ").append(r.label()).append(" |");
            for (Suite.Column c : s.columns()) md.append(' ').append(suiteCell(Suite.value(c, r.results()))).append(" |");
            md.append(' ').append(suiteCell(s.average(r.results()))).append(" |\n");
        }
        md.append("\nColumns: ").append(String.join("; ", s.columns().stream()
                .map(c -> c.label() + " = " + c.task() + " " + c.shots() + "-shot " + c.metric() + (c.percent() ? " (%)" : "")).toList())).append(".\n");
        md.append("Average: the mean of the percentage columns. Source: ").append(s.reference()).append(".\n");
        for (String n : s.notes()) md.append("- ").append(n).append('\n');
        return md.toString();
    }

    private static String suiteCell(OptionalDouble v) {
        return v.isPresent() ? String.format(Locale.ROOT, "%.1f", v.getAsDouble()) : "–";
    }

    /** A short column name: the file or folder name, with its parent when that is ambiguous (hf/, model/). */
    static String label(String spec, List<String> all) {
        Path p = Path.of(spec.contains("=") ? spec.substring(0, spec.lastIndexOf('=')) : spec).normalize();
        String name = p.getFileName() == null ? spec : p.getFileName().toString();
        long same = all.stream().map(s -> Path.of(s.contains("=") ? s.substring(0, s.lastIndexOf('=')) : s).normalize().getFileName())
                .filter(f -> f != null && f.toString().equals(name)).count();
        boolean generic = Set.of("hf", "model", "out", "final").contains(name);
        return (same > 1 || generic) && p.getParent() != null && p.getParent().getFileName() != null ? p.getParent().getFileName() + "/" + name : name;
    }

    String settingsLine() {
        return String.format(Locale.ROOT, "limit %s, sample %s (seed %d), num_fewshot %d, batch %d, context %s, start %s, data %s",
                settings.limit() == 0 ? "all" : settings.limit(), settings.sampling().name().toLowerCase(Locale.ROOT), settings.seed(), settings.numFewshot(),
                settings.batchSize(), settings.contextLength() == 0 ? "model maximum" : settings.contextLength(), settings.start().name().toLowerCase(Locale.ROOT), dataDir);
    }

    String markdown() {
        StringBuilder md = new StringBuilder();
        if (suite.isPresent()) md.append(suiteTable()).append('\n');
        md.append("Harness format: ").append(TaskCatalog.FORMAT_VERSION).append('\n');
        md.append("Settings: ").append(settingsLine()).append("\n\n");
        md.append("| model | shape | parameters | tokenizer |\n|---|---|---:|---|\n");
        for (ModelRun r : runs) {
            md.append(String.format(Locale.ROOT, "| %s | %s | %,d | %d tokens |%n", r.label(), r.model().shape(), r.model().parameters(), r.model().tokenizerVocab()));
        }
        md.append("\n| task | items | metric |");
        for (ModelRun r : runs) md.append(' ').append(r.label()).append(" |");
        md.append("\n|---|---:|---|");
        md.append("---:|".repeat(runs.size())).append('\n');
        for (int t = 0; t < taskCount(); t++) {
            int task = t;
            TaskResult first = runs.get(0).results().get(t);
            for (String metric : metricNames(t)) {
                md.append("| ").append(taskLabel(first)).append(" | ").append(first.items()).append(" | ").append(metric).append(" |");
                for (ModelRun r : runs) md.append(' ').append(cell(r.results().get(task).metric(metric))).append(" |");
                md.append('\n');
            }
        }
        List<String> notes = notes();
        if (!notes.isEmpty()) md.append("\nDifferences from lm-eval's run:\n");
        for (String n : notes) md.append("- ").append(n).append('\n');
        md.append("\nSpeed (items/s):");
        for (ModelRun r : runs) {
            md.append(' ').append(r.label()).append(" [");
            List<String> speeds = new ArrayList<>();
            for (TaskResult x : r.results()) speeds.add(x.task() + " " + String.format(Locale.ROOT, "%.1f", x.itemsPerSecond()));
            md.append(String.join(", ", speeds)).append(']');
        }
        return md.append('\n').toString();
    }

    /** Results per model: the tasks', then the groups'. */
    private int taskCount() {
        return runs.get(0).results().size();
    }

    /** The task's name, with its shot count when it has examples. */
    static String taskLabel(TaskResult r) {
        return r.shots() > 0 ? r.task() + " " + r.shots() + "-shot" : r.task();
    }

    /** Every task's notes (a split not in the data folder, a fallback), once each, prefixed with the task. */
    List<String> notes() {
        Set<String> out = new LinkedHashSet<>();
        for (ModelRun r : runs) for (TaskResult x : r.results()) for (String n : x.notes()) out.add(x.task() + ": " + n);
        return new ArrayList<>(out);
    }

    private List<String> metricNames(int task) {
        Set<String> names = new LinkedHashSet<>();
        for (ModelRun r : runs) for (Metric m : r.results().get(task).metrics()) names.add(m.name());
        return new ArrayList<>(names);
    }

    static String cell(Optional<Metric> metric) {
        if (metric.isEmpty()) return "–";
        Metric m = metric.get();
        String v = format(m.value());
        return Double.isFinite(m.stderr()) ? v + " ± " + format(m.stderr()) : v;
    }

    private static String format(double v) {
        return Math.abs(v) >= 1000 ? String.format(Locale.ROOT, "%.1f", v) : String.format(Locale.ROOT, "%.4f", v);
    }

    ObjectNode json() {
        ObjectNode root = Json.object();
        root.put("harness_format", TaskCatalog.FORMAT_VERSION);
        ObjectNode s = root.putObject("settings");
        s.put("limit", settings.limit()).put("sample", settings.sampling().name().toLowerCase(Locale.ROOT)).put("seed", settings.seed()).put("num_fewshot", settings.numFewshot())
                .put("batch", settings.batchSize()).put("context", settings.contextLength()).put("start", settings.start().name().toLowerCase(Locale.ROOT))
                .put("data_dir", dataDir.toString());
        ArrayNode models = root.putArray("models");
        for (ModelRun r : runs) {
            ObjectNode m = models.addObject();
            m.put("label", r.label()).put("path", r.model().source().toString()).put("format", r.model().format())
                    .put("shape", r.model().shape()).put("parameters", r.model().parameters()).put("context", r.model().context())
                    .put("tokenizer_vocab", r.model().tokenizerVocab());
            ObjectNode results = m.putObject("results");
            for (TaskResult x : r.results()) {
                ObjectNode t = results.putObject(x.task());
                t.put("items", x.items()).put("available", x.available()).put("tokens", x.tokens())
                        .put("seconds", x.seconds()).put("items_per_second", x.itemsPerSecond()).put("num_fewshot", x.shots());
                ArrayNode notes = t.putArray("notes");
                x.notes().forEach(notes::add);
                for (Metric metric : x.metrics()) {
                    t.put(metric.name(), metric.value());
                    if (Double.isFinite(metric.stderr())) t.put(metric.name() + "_stderr", metric.stderr());
                }
            }
        }
        ArrayNode taskNodes = root.putArray("tasks");
        for (int t = 0; t < taskCount(); t++) {
            TaskResult first = runs.get(0).results().get(t);
            ObjectNode node = taskNodes.addObject().put("task", first.task()).put("kind", first.kind().name().toLowerCase(Locale.ROOT));
            // a group has no file of its own: its leaves are listed before it
            if (t < tasks.size()) node.put("file", tasks.get(t).file());
            else node.put("group", true);
            node.put("reference", first.reference());
        }
        ArrayNode notes = root.putArray("notes");
        notes().forEach(notes::add);
        suite.ifPresent(x -> suiteJson(x, root.putObject("suite")));
        return root;
    }

    private void suiteJson(Suite s, ObjectNode node) {
        node.put("name", s.name()).put("title", s.title()).put("reference", s.reference());
        ArrayNode columns = node.putArray("columns");
        for (Suite.Column c : s.columns()) {
            columns.addObject().put("group", c.group()).put("label", c.label()).put("task", c.task()).put("num_fewshot", c.shots())
                    .put("metric", c.metric()).put("percent", c.percent());
        }
        ArrayNode rows = node.putArray("rows");
        for (ModelRun r : runs) {
            ObjectNode row = rows.addObject().put("model", r.label());
            ObjectNode values = row.putObject("values");
            for (Suite.Column c : s.columns()) {
                OptionalDouble v = Suite.value(c, r.results());
                if (v.isPresent()) values.put(c.label(), v.getAsDouble());
                else values.putNull(c.label());
            }
            OptionalDouble avg = s.average(r.results());
            if (avg.isPresent()) row.put("average", avg.getAsDouble());
            else row.putNull("average");
        }
        ArrayNode notes = node.putArray("notes");
        s.notes().forEach(notes::add);
    }

    String html() {
        StringBuilder h = new StringBuilder("<h1>Shears evaluation</h1>");
        h.append("<p>Harness format: ").append(Charts.esc(TaskCatalog.FORMAT_VERSION)).append("<br>Settings: ").append(Charts.esc(settingsLine())).append("</p>");
        h.append("<h2>Models</h2><table><tr><th>model</th><th>shape</th><th>parameters</th><th>path</th></tr>");
        for (ModelRun r : runs) {
            h.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%s</td><td>%,d</td><td>%s</td></tr>", Charts.esc(r.label()), Charts.esc(r.model().shape()),
                    r.model().parameters(), Charts.esc(r.model().source().toString())));
        }
        h.append("</table>");
        suite.ifPresent(x -> h.append(suiteHtml(x)));
        for (String n : notes()) h.append("<p class=\"ref\">").append(Charts.esc(n)).append("</p>");
        for (int t = 0; t < taskCount(); t++) {
            TaskResult first = runs.get(0).results().get(t);
            List<String> metrics = metricNames(t);
            h.append("<h2>").append(Charts.esc(taskLabel(first))).append("</h2><p class=\"ref\">").append(first.items()).append(" items · ")
                    .append(Charts.esc(first.reference())).append("</p><table><tr><th>metric</th>");
            for (ModelRun r : runs) h.append("<th>").append(Charts.esc(r.label())).append("</th>");
            h.append("</tr>");
            for (String metric : metrics) {
                h.append("<tr><td>").append(Charts.esc(metric)).append("</td>");
                for (ModelRun r : runs) h.append("<td>").append(Charts.esc(cell(r.results().get(t).metric(metric)))).append("</td>");
                h.append("</tr>");
            }
            h.append("</table>");
            h.append(chart(t, metrics, first));
        }
        return Charts.page("Shears evaluation", h.toString());
    }

    private String suiteHtml(Suite s) {
        StringBuilder h = new StringBuilder("<h2>").append(Charts.esc(s.title())).append("</h2><table><tr><th></th>");
        for (Map.Entry<String, List<Suite.Column>> g : s.groups().entrySet()) {
            h.append("<th colspan=\"").append(g.getValue().size()).append("\">").append(Charts.esc(g.getKey())).append("</th>");
        }
        h.append("<th></th></tr><tr><th>model</th>");
        for (Suite.Column c : s.columns()) h.append("<th>").append(Charts.esc(c.label())).append("</th>");
        h.append("<th>Average</th></tr>");
        for (ModelRun r : runs) {
            h.append("<tr><td>").append(Charts.esc(r.label())).append("</td>");
            for (Suite.Column c : s.columns()) h.append("<td>").append(suiteCell(Suite.value(c, r.results()))).append("</td>");
            h.append("<td>").append(suiteCell(s.average(r.results()))).append("</td></tr>");
        }
        h.append("</table><p class=\"ref\">").append(Charts.esc(s.reference())).append("</p>");
        for (String n : s.notes()) h.append("<p class=\"ref\">").append(Charts.esc(n)).append("</p>");
        return h.toString();
    }

    /** Accuracies together on one chart; perplexities (different scales) each compared across models; exact_match for generation. */
    private String chart(int task, List<String> metrics, TaskResult first) {
        List<String> shown = metrics.stream().filter(m -> !m.equals("token_perplexity") || metrics.size() == 1).toList();
        if (first.kind() != dev.shears.eval.TaskKind.MULTIPLE_CHOICE) {
            shown = metrics.stream().filter(m -> m.equals("acc") || m.equals("bits_per_byte") || m.equals("exact_match")).toList();
        }
        if (shown.isEmpty()) shown = metrics.subList(0, 1);
        List<Charts.Bars> bars = new ArrayList<>();
        for (ModelRun r : runs) {
            double[] v = new double[shown.size()], e = new double[shown.size()];
            for (int i = 0; i < shown.size(); i++) {
                Optional<Metric> m = r.results().get(task).metric(shown.get(i));
                v[i] = m.map(Metric::value).orElse(Double.NaN);
                e[i] = m.map(Metric::stderr).orElse(Double.NaN);
            }
            bars.add(new Charts.Bars(r.label(), v, e));
        }
        return Charts.bars(first.task(), String.join(" / ", shown), shown, bars);
    }
}
