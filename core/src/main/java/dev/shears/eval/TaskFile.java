package dev.shears.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.shears.ShearsException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A task defined by a small YAML or JSON file over a JSONL data file, without code. Templates name the
 * line's string fields in braces; {@code {{} and {@code }}} write literal braces.
 * <pre>
 * name: piqa_foundry          # the name in reports
 * kind: multiple_choice       # or last_word (LAMBADA-style: acc = greedy match, perplexity), or perplexity
 *                             # (rolling token/word/byte perplexity of a text file, documents separated by blank lines)
 * file: mc/piqa.jsonl         # relative to the evaluation data folder, or absolute
 * context: "{query}Answer:"   # the prompt
 * choices: choices            # array field: each choice scored as context + delimiter + choice
 * # contexts: context_options # instead: one context per choice, all scoring the same continuation (partial scoring)
 * # continuation: "{continuation}"  # the scored text for contexts / last_word
 * delimiter: " "              # between context and choice/continuation (default " ")
 * gold: gold                  # integer field with the right choice (default "gold")
 * reference: "llm-foundry tasks_v0.3.yaml"
 * </pre>
 */
public final class TaskFile {
    private static final Set<String> KEYS = Set.of("name", "kind", "file", "context", "choices", "contexts", "continuation", "delimiter", "gold", "reference");
    private static final Pattern FIELD = Pattern.compile("\\{\\{|\\}\\}|\\{([A-Za-z_][A-Za-z0-9_]*)\\}");

    private TaskFile() {
    }

    /** Whether a task argument names a task file rather than a built-in task. */
    public static boolean isTaskFile(String argument) {
        String s = argument.toLowerCase(Locale.ROOT);
        return s.endsWith(".yaml") || s.endsWith(".yml") || s.endsWith(".json");
    }

    public static Task load(Path file) {
        JsonNode root;
        try {
            String text = Files.readString(file);
            ObjectMapper mapper = file.toString().toLowerCase(Locale.ROOT).endsWith(".json") ? new ObjectMapper() : new ObjectMapper(new YAMLFactory());
            root = mapper.readTree(text);
        } catch (NoSuchFileException e) {
            throw new ShearsException(file + ": no such task file");
        } catch (IOException e) {
            throw new ShearsException(file + ": not a valid task file: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (root == null || !root.isObject()) throw new ShearsException(file + ": a task file must be a mapping of keys (name, kind, file, context, …)");
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!KEYS.contains(key)) throw new ShearsException(file + ": unknown key \"" + key + "\"; known keys: " + String.join(", ", KEYS.stream().sorted().toList()));
        }
        String name = required(file, root, "name");
        String kindName = root.path("kind").asText("multiple_choice");
        TaskKind kind = switch (kindName) {
            case "multiple_choice" -> TaskKind.MULTIPLE_CHOICE;
            case "last_word" -> TaskKind.LAST_WORD;
            case "perplexity" -> TaskKind.ROLLING_PERPLEXITY;
            default -> throw new ShearsException(file + ": unknown kind \"" + kindName + "\"; one of multiple_choice, last_word, perplexity");
        };
        String data = required(file, root, "file");
        String delimiter = root.path("delimiter").asText(" ");
        String goldField = root.path("gold").asText("gold");
        String reference = root.path("reference").asText("task file " + file.getFileName());
        if (kind == TaskKind.ROLLING_PERPLEXITY) {
            return new Task(name, kind, data, TextDocuments.PARAGRAPHS, reference); // a text file, one document per blank-line separated paragraph
        }
        JsonlItems.Format format;
        if (kind == TaskKind.LAST_WORD) {
            String context = required(file, root, "context");
            String continuation = required(file, root, "continuation");
            format = line -> new Item.MultipleChoice(List.of(Choice.of(fill(context, line), delimiter, fill(continuation, line))), 0);
        } else if (root.has("choices") == root.has("contexts")) {
            throw new ShearsException(file + ": a multiple_choice task needs exactly one of \"choices\" (an array field of choices) "
                    + "or \"contexts\" (an array field of contexts sharing one continuation)");
        } else if (root.has("choices")) {
            String context = required(file, root, "context");
            String field = required(file, root, "choices");
            format = line -> {
                String c = fill(context, line);
                List<String> options = JsonlItems.texts(line, field);
                List<Choice> choices = new ArrayList<>();
                for (String o : options) choices.add(Choice.of(c, delimiter, o));
                return new Item.MultipleChoice(choices, JsonlItems.gold(line, goldField, options.size()));
            };
        } else {
            String field = required(file, root, "contexts");
            String continuation = required(file, root, "continuation");
            format = line -> {
                List<String> contexts = JsonlItems.texts(line, field);
                String rest = fill(continuation, line);
                List<Choice> choices = new ArrayList<>();
                for (String c : contexts) choices.add(Choice.of(c, delimiter, rest));
                return new Item.MultipleChoice(choices, JsonlItems.gold(line, goldField, contexts.size()));
            };
        }
        return new Task(name, kind, data, new JsonlItems(format), reference);
    }

    /** The template with each {field} replaced by the line's string field. */
    static String fill(String template, JsonNode line) {
        Matcher m = FIELD.matcher(template);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String replacement = switch (m.group()) {
                case "{{" -> "{";
                case "}}" -> "}";
                default -> JsonlItems.text(line, m.group(1));
            };
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static String required(Path file, JsonNode root, String key) {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) throw new ShearsException(file + ": missing \"" + key + "\"");
        if (!v.isTextual()) throw new ShearsException(file + ": \"" + key + "\" must be a string");
        return v.asText();
    }
}
