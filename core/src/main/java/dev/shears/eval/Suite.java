package dev.shears.eval;

import dev.shears.ShearsException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * A paper's evaluation table: its tasks, each with the shot count and the metric the paper reports, in the paper's
 * column order and groups, so {@code shears eval --suite NAME} prints a table that sits next to the paper's.
 *
 * @param name      the {@code --suite} name
 * @param title     the paper
 * @param reference where the task list, shots and metrics come from
 * @param columns   the table's columns, in order
 * @param notes     what could not be confirmed or is not in the data folder
 */
public record Suite(String name, String title, String reference, List<Column> columns, List<String> notes) {
    /**
     * One column of the table.
     *
     * @param group  the heading above it ("Commonsense & Reading Comprehension")
     * @param label  the paper's column name
     * @param task   the task (or task group) that fills it
     * @param shots  few-shot examples
     * @param metric the metric shown ({@code acc}, {@code acc_norm}, {@code exact_match}, {@code word_perplexity})
     */
    public record Column(String group, String label, String task, int shots, String metric) {
        /** A percentage (averaged), or a perplexity (shown as it is and left out of the average). */
        public boolean percent() {
            return !metric.endsWith("perplexity") && !metric.equals("bits_per_byte");
        }
    }

    public Suite {
        columns = List.copyOf(columns);
        notes = List.copyOf(notes);
        Map<String, Integer> shots = new LinkedHashMap<>();
        for (Column c : columns) {
            Integer before = shots.putIfAbsent(c.task(), c.shots());
            if (before != null && before != c.shots()) throw new IllegalArgumentException(c.task() + " appears with " + before + " and " + c.shots() + " shots");
        }
    }

    /** The tasks to run, each once, in column order. */
    public List<String> tasks() {
        return List.copyOf(new LinkedHashSet<>(columns.stream().map(Column::task).toList()));
    }

    /** Few-shot examples for each task (and, through {@link TaskCatalog#groups}, for every leaf of a group). */
    public Map<String, Integer> shots() {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (Column c : columns) out.put(c.task(), c.shots());
        return out;
    }

    /** The groups' headings, in order, each with its columns. */
    public Map<String, List<Column>> groups() {
        Map<String, List<Column>> out = new LinkedHashMap<>();
        for (Column c : columns) out.computeIfAbsent(c.group(), g -> new ArrayList<>()).add(c);
        return out;
    }

    /** A column's value from one model's results: a percentage for accuracies, the metric itself otherwise. */
    public static OptionalDouble value(Column column, List<TaskResult> results) {
        for (TaskResult r : results) {
            if (!r.task().equals(column.task())) continue;
            return r.metric(column.metric()).map(m -> OptionalDouble.of(column.percent() ? 100 * m.value() : m.value())).orElse(OptionalDouble.empty());
        }
        return OptionalDouble.empty();
    }

    /** The mean of the percentage columns (the papers' "Average"), empty when one is missing. */
    public OptionalDouble average(List<TaskResult> results) {
        double sum = 0;
        int n = 0;
        for (Column c : columns) {
            if (!c.percent()) continue;
            OptionalDouble v = value(c, results);
            if (v.isEmpty()) return OptionalDouble.empty();
            sum += v.getAsDouble();
            n++;
        }
        return n == 0 ? OptionalDouble.empty() : OptionalDouble.of(sum / n);
    }

    private static final Map<String, Suite> SUITES = new LinkedHashMap<>();

    static {
        String commonsense = "Commonsense & Reading Comprehension";
        String continued = "Continued LM";
        String knowledge = "World Knowledge";
        add(new Suite("sheared-llama", "Sheared LLaMA (Xia et al., 2024), Table 1 / Table 9",
                "princeton-nlp/LLM-Shearing icl_eval/README.md and run_eval.sh: tasks, shots and metrics (acc_norm for ARC-C, HellaSwag, LogiQA)",
                List.of(new Column(commonsense, "SciQ", "sciq", 0, "acc"),
                        new Column(commonsense, "PIQA", "piqa", 0, "acc"),
                        new Column(commonsense, "WinoGrande", "winogrande", 0, "acc"),
                        new Column(commonsense, "ARC-E", "arc_easy", 0, "acc"),
                        new Column(commonsense, "ARC-C (25)", "arc_challenge", 25, "acc_norm"),
                        new Column(commonsense, "HellaSwag (10)", "hellaswag", 10, "acc_norm"),
                        new Column(continued, "LogiQA", "logiqa", 0, "acc_norm"),
                        new Column(continued, "BoolQ (32)", "boolq", 32, "acc"),
                        new Column(continued, "LAMBADA", "lambada_openai", 0, "acc"),
                        new Column(knowledge, "NQ (32)", "nq_open", 32, "exact_match"),
                        new Column(knowledge, "MMLU (5)", "mmlu", 5, "acc")),
                List.of("the paper ran lm-evaluation-harness at an earlier version (its fork in icl_eval); prompts of that version may differ from 4e7e0d47f's")));
        add(new Suite("openba-v2", "OpenBA-V2 (Qiao et al., 2024), commonsense reasoning and MMLU",
                "the paper's text: commonsense reasoning zero-shot, MMLU 5-shot; the task list follows the LLaMA-style commonsense set and is not confirmed against its evaluation code",
                List.of(new Column("Commonsense Reasoning", "BoolQ", "boolq", 0, "acc"),
                        new Column("Commonsense Reasoning", "PIQA", "piqa", 0, "acc"),
                        new Column("Commonsense Reasoning", "SIQA", "siqa", 0, "acc"),
                        new Column("Commonsense Reasoning", "HellaSwag", "hellaswag", 0, "acc_norm"),
                        new Column("Commonsense Reasoning", "WinoGrande", "winogrande", 0, "acc"),
                        new Column("Commonsense Reasoning", "ARC-e", "arc_easy", 0, "acc"),
                        new Column("Commonsense Reasoning", "ARC-c", "arc_challenge", 0, "acc_norm"),
                        new Column("Commonsense Reasoning", "OBQA", "openbookqa", 0, "acc_norm"),
                        new Column("Knowledge", "MMLU (5)", "mmlu", 5, "acc")),
                List.of("not confirmed: the task list and metrics follow the paper's prose, not its evaluation code",
                        "missing: NER, CMMLU and C-Eval (no data here); SIQA has 2 of its 3 answers in this copy")));
        String zeroShot = "Zero-shot";
        add(new Suite("jha", "How To Train Your (Compressed) Large Language Model (Jha et al., 2023)",
                "the paper's 12-task zero-shot suite and WikiText perplexity, from memory of the paper: not confirmed",
                List.of(new Column(zeroShot, "ARC-C", "arc_challenge", 0, "acc_norm"),
                        new Column(zeroShot, "ARC-E", "arc_easy", 0, "acc"),
                        new Column(zeroShot, "BoolQ", "boolq", 0, "acc"),
                        new Column(zeroShot, "COPA", "copa", 0, "acc"),
                        new Column(zeroShot, "HellaSwag", "hellaswag", 0, "acc_norm"),
                        new Column(zeroShot, "LogiQA", "logiqa", 0, "acc_norm"),
                        new Column(zeroShot, "OBQA", "openbookqa", 0, "acc_norm"),
                        new Column(zeroShot, "PIQA", "piqa", 0, "acc"),
                        new Column(zeroShot, "SciQ", "sciq", 0, "acc"),
                        new Column(zeroShot, "WinoGrande", "winogrande", 0, "acc"),
                        new Column("Language modelling", "WikiText ppl", "wikitext", 0, "word_perplexity")),
                List.of("not confirmed: task list and metrics from memory of the paper",
                        "missing: HeadQA and MathQA (no data here), so the average is over 10 of the 12 tasks")));
    }

    private static void add(Suite s) {
        SUITES.put(s.name(), s);
    }

    /** A suite by name, or one line naming the known ones. */
    public static Suite named(String name) {
        Suite s = SUITES.get(name.strip());
        if (s == null) throw new ShearsException("unknown suite \"" + name + "\"; suites: " + String.join(", ", SUITES.keySet()));
        return s;
    }

    public static List<String> names() {
        return List.copyOf(SUITES.keySet());
    }
}
