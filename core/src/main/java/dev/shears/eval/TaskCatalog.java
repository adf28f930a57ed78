package dev.shears.eval;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shears.ShearsException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.shears.eval.JsonlItems.gold;
import static dev.shears.eval.JsonlItems.text;
import static dev.shears.eval.JsonlItems.texts;

/**
 * The built-in tasks: each prompt format is written here once, next to the lm-evaluation-harness (v0.4)
 * task configuration it reproduces. The data files are llm-foundry's JSONL copies (see
 * {@code data/SOURCES.md}); where their query already carries part of a prompt, the format undoes it so the
 * text the model sees is lm-eval's. Every choice is scored as {@code context + " " + choice} (lm-eval's
 * default {@code target_delimiter}), unless noted.
 */
public final class TaskCatalog {
    /** The version of the prompt formats and scoring below; bump it whenever a model would see different text. */
    public static final String FORMAT_VERSION = "shears-eval/2 (lm-evaluation-harness v0.4 formats, few-shot contexts as 4e7e0d47f)";

    private static final Map<String, Task> BUILT_IN = new LinkedHashMap<>();
    private static final Map<String, TaskGroup> GROUPS = new LinkedHashMap<>();

    static {
        // mmlu/default/_mmlu.yaml and _mmlu_<category>.yaml: acc over the leaf tasks, weight_by_size True.
        List<String> categories = List.of("stem", "other", "social_sciences", "humanities");
        for (String category : categories) {
            List<String> leaves = LmEvalTasks.MMLU_SUBJECTS.entrySet().stream().filter(e -> e.getValue().equals(category)).map(e -> "mmlu_" + e.getKey()).toList();
            GROUPS.put("mmlu_" + category, new TaskGroup("mmlu_" + category, leaves, LmEvalTasks.ACC, "lm-eval mmlu/default/_mmlu_" + category + ".yaml: acc weighted by size"));
        }
        List<String> all = LmEvalTasks.MMLU_SUBJECTS.keySet().stream().map(s -> "mmlu_" + s).toList();
        GROUPS.put("mmlu", new TaskGroup("mmlu", all, LmEvalTasks.ACC, "lm-eval mmlu/default/_mmlu.yaml: acc over the 57 subjects weighted by size"));
    }

    static {
        // piqa.yaml: doc_to_text "Question: {{goal}}\nAnswer:", choices [sol1, sol2]. Foundry's query is "Question: {goal}\n".
        multipleChoice("piqa", "mc/piqa.jsonl", "lm-eval piqa.yaml: \"Question: {goal}\\nAnswer:\" + \" \" + sol",
                line -> choices(stripTrailingNewline(text(line, "query")) + "\nAnswer:", line, "choices"));
        // arc_easy.yaml / arc_challenge.yaml: configured with their splits and few-shot examples, see LmEvalTasks.
        add(LmEvalTasks.arcEasy());
        add(LmEvalTasks.arcChallenge());
        // super_glue/boolq/default.yaml, sciq.yaml, logiqa.yaml, mmlu/default: see LmEvalTasks.
        add(LmEvalTasks.boolq());
        add(LmEvalTasks.sciq());
        add(LmEvalTasks.logiqa());
        for (String subject : LmEvalTasks.MMLU_SUBJECTS.keySet()) add(LmEvalTasks.mmlu(subject));
        // openbookqa.yaml: doc_to_text question_stem, choices {{choices.text}}.
        multipleChoice("openbookqa", "mc/openbook_qa.jsonl", "lm-eval openbookqa.yaml: \"{question_stem}\" + \" \" + choice",
                line -> choices(text(line, "query"), line, "choices"));
        // super_glue/copa: premise without its final period + " because"/" therefore"; doc_to_choice " " + first letter
        // lower-cased (that space belongs to the choice, so acc_norm counts it), and construct_requests puts the default
        // target_delimiter " " before it: two spaces. Foundry writes "{premise without period}, because".
        multipleChoice("copa", "mc/copa.jsonl", "lm-eval super_glue/copa utils.py: \"{premise[:-1]} because|therefore\" + \" \" + \" \" + lowercase-first(choice)",
                line -> copa(line, " "));
        // The same with one space, as a reader would write it (and as Shears scored copa before 2026-12-03).
        multipleChoice("copa_single_space", "mc/copa.jsonl", "copa with one space before the choice (not lm-eval's)", line -> copa(line, ""));
        // siqa.yaml: "Q: {{context}} {{question}}\nA:", choices [answerA, answerB, answerC]. Foundry keeps a lettered
        // prompt ("Context: …\nQuestion: …\nChoices:\nA. …\nAnswer:", choices "A", "B"); the answers are read back from it.
        // This copy has only two answers per question, so scores are not comparable to lm-eval's three-way siqa.
        multipleChoice("siqa", "mc/siqa.jsonl", "lm-eval siqa.yaml: \"Q: {context} {question}\\nA:\" + \" \" + answer (2 of the 3 answers in this copy)",
                TaskCatalog::siqa);
        // commonsense_qa/default.yaml: "Question: {{question}}\nA. …\nB. …\nAnswer:", choices the letters. Foundry adds a
        // "Choices:" line, removed here. This copy has 4 of the 5 answers.
        multipleChoice("commonsense_qa", "mc/commonsense_qa.jsonl",
                "lm-eval commonsense_qa/default.yaml: \"Question: {question}\\nA. …\\nAnswer:\" + \" \" + letter (4 of the 5 answers in this copy)",
                line -> choices(text(line, "query").replace("\nChoices:\n", "\n"), line, "choices"));
        // hellaswag.yaml + utils.py: configured with its splits and few-shot examples, see LmEvalTasks.
        add(LmEvalTasks.hellaswag());
        // nq_open.yaml, triviaqa/default.yaml: generate_until (greedy answers, exact_match), configured in LmEvalTasks.
        add(LmEvalTasks.nqOpen());
        add(LmEvalTasks.triviaqa());
        // winogrande.yaml: partial evaluation: choices are the sentence up to "_" with each option, the target is the rest,
        // scored under each context (Trinh & Le 2018). Foundry stores the two contexts and the shared continuation.
        multipleChoice("winogrande", "mc/winogrande.jsonl", "lm-eval winogrande.yaml (partial scoring): \"{sentence[:_] + option}\" + \" \" + rest",
                TaskCatalog::partial);
        // wsc273.yaml: the same partial evaluation, the pronoun replaced by each candidate.
        multipleChoice("wsc273", "mc/winograd_wsc.jsonl", "lm-eval wsc273.yaml (partial scoring): \"{text[:pronoun] + option}\" + \" \" + rest",
                TaskCatalog::partial);
        // lambada_openai.yaml: doc_to_text = all but the last word, doc_to_target = " " + last word; acc (greedy) and perplexity.
        add(new Task("lambada_openai", TaskKind.LAST_WORD, "mc/lambada_openai.jsonl",
                new JsonlItems(line -> new Item.MultipleChoice(List.of(Choice.of(text(line, "context"), " ", text(line, "continuation"))), 0)),
                "lm-eval lambada_openai.yaml: \"{text without its last word}\" + \" \" + last word; acc = greedy match, perplexity"));
        // wikitext.yaml: wikitext-2-raw-v1 pages, loglikelihood_rolling of wikitext_detokenizer(page).
        add(new Task("wikitext", TaskKind.ROLLING_PERPLEXITY, "wikitext-2/wiki.test.raw", TextDocuments.WIKITEXT,
                "lm-eval wikitext.yaml: rolling log-likelihood of detokenized pages; words and bytes of the original page"));
        add(new Task("tinystories", TaskKind.ROLLING_PERPLEXITY, "tinystories/tinystories_val_head.txt", TextDocuments.PARAGRAPHS,
                "rolling log-likelihood as lm-eval's wikitext task, one document per blank-line separated story"));
    }

    private TaskCatalog() {
    }

    /** Names of the built-in tasks, in catalog order. */
    public static List<String> names() {
        return List.copyOf(BUILT_IN.keySet());
    }

    /** A built-in task by name. */
    public static Task task(String name) {
        Task t = BUILT_IN.get(name);
        if (t == null) throw new ShearsException("unknown task \"" + name + "\"; known tasks: " + String.join(", ", shortList())
                + " (or a task file: a .yaml/.json path)");
        return t;
    }

    /** Whether {@code name} is a group of tasks ({@code mmlu}, {@code mmlu_stem}, …). */
    public static boolean isGroup(String name) {
        return GROUPS.containsKey(name);
    }

    /**
     * The groups reported for {@code name}, each after its leaves, in lm-eval's order ({@code mmlu}: its four
     * categories, then itself).
     */
    public static List<TaskGroup> groups(String name) {
        TaskGroup g = GROUPS.get(name);
        if (g == null) throw new ShearsException("unknown group \"" + name + "\"; groups: " + String.join(", ", GROUPS.keySet()));
        if (!name.equals("mmlu")) return List.of(g);
        return List.copyOf(GROUPS.values());
    }

    /** The task names for an error message: MMLU's subjects as one entry. */
    private static List<String> shortList() {
        List<String> names = new ArrayList<>(BUILT_IN.keySet().stream().filter(n -> !n.startsWith("mmlu_")).toList());
        names.add("mmlu, mmlu_stem, mmlu_other, mmlu_social_sciences, mmlu_humanities, mmlu_<subject> (57 subjects)");
        return names;
    }

    private static void multipleChoice(String name, String file, String reference, JsonlItems.Format format) {
        add(new Task(name, TaskKind.MULTIPLE_CHOICE, file, new JsonlItems(format), reference));
    }

    private static void add(Task task) {
        BUILT_IN.put(task.name(), task);
    }

    /** Every string of the array field {@code field} as a choice after {@code context}, gold from "gold". */
    static Item choices(String context, JsonNode line, String field) {
        List<String> options = texts(line, field);
        List<Choice> choices = new ArrayList<>();
        for (String o : options) choices.add(Choice.of(context, " ", o));
        return new Item.MultipleChoice(choices, gold(line, "gold", options.size()));
    }

    /** Two contexts, one continuation: {@code {context_options, continuation, gold}}. */
    static Item partial(JsonNode line) {
        List<String> contexts = texts(line, "context_options");
        String rest = text(line, "continuation");
        List<Choice> choices = new ArrayList<>();
        for (String c : contexts) choices.add(Choice.of(c, " ", rest));
        return new Item.MultipleChoice(choices, gold(line, "gold", contexts.size()));
    }

    private static final Pattern COPA = Pattern.compile("(?s)(.*?)[,.]? (because|therefore)");

    /** @param delimiter what comes between the context and {@code doc_to_choice}'s " " + choice */
    static Item copa(JsonNode line, String delimiter) {
        String query = text(line, "query");
        Matcher m = COPA.matcher(query.strip());
        if (!m.matches()) throw new IllegalArgumentException("a COPA query must end in \"because\" or \"therefore\", found \"" + query + "\"");
        String context = m.group(1) + " " + m.group(2);
        List<String> options = texts(line, "choices");
        List<Choice> choices = new ArrayList<>();
        for (String o : options) {
            String choice = " " + (o.isEmpty() ? o : o.substring(0, 1).toLowerCase(java.util.Locale.ROOT) + o.substring(1));
            choices.add(Choice.of(context, delimiter, choice));
        }
        return new Item.MultipleChoice(choices, gold(line, "gold", options.size()));
    }

    private static final Pattern SIQA = Pattern.compile("(?s)Context: (.*)\nQuestion: (.*)\nChoices:\n(.*)\nAnswer:");
    private static final Pattern LETTERED = Pattern.compile("([A-Z])\\. (.*)");

    static Item siqa(JsonNode line) {
        String query = text(line, "query");
        Matcher m = SIQA.matcher(query);
        if (!m.matches()) throw new IllegalArgumentException("a SIQA query must read \"Context: …\\nQuestion: …\\nChoices:\\nA. …\\nAnswer:\"");
        String context = "Q: " + m.group(1) + " " + m.group(2) + "\nA:";
        List<String> letters = texts(line, "choices");
        String[] rows = m.group(3).split("\n");
        if (rows.length != letters.size()) {
            throw new IllegalArgumentException("the query lists " + rows.length + " answers but \"choices\" has " + letters.size());
        }
        List<Choice> choices = new ArrayList<>();
        for (int i = 0; i < rows.length; i++) {
            Matcher r = LETTERED.matcher(rows[i]);
            if (!r.matches() || !r.group(1).equals(letters.get(i))) {
                throw new IllegalArgumentException("answer " + (i + 1) + " of the query should start \"" + letters.get(i) + ". \", found \"" + rows[i] + "\"");
            }
            choices.add(Choice.of(context, " ", r.group(2)));
        }
        return new Item.MultipleChoice(choices, gold(line, "gold", choices.size()));
    }

    private static String stripTrailingNewline(String s) {
        return s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
    }

    private static String removePrefix(String s, String prefix) {
        return s.startsWith(prefix) ? s.substring(prefix.length()) : s;
    }
}
