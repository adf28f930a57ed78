package dev.shears.eval;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shears.ShearsException;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import static dev.shears.eval.JsonlItems.text;
import static dev.shears.eval.JsonlItems.texts;

/**
 * HellaSwag's documents as lm-evaluation-harness 4e7e0d47f's {@code hellaswag/hellaswag.yaml} and {@code utils.py}
 * make them: {@code process_docs} turns a row into {@code query = preprocess(activity_label + ": " + ctx_a + " " +
 * ctx_b.capitalize())}, {@code choices = [preprocess(e) for e in endings]} and {@code gold = int(label)}; the
 * YAML scores each choice as {@code " " + choice} after the query ({@code acc}, and {@code acc_norm} by characters).
 * Two files hold them in ../shared/data/eval/hellaswag (SOURCES.md, SOURCES-2.md):
 * <ul>
 *   <li>{@link #validation}: llama.cpp's {@code hellaswag_val_full.txt}, all 10,042 validation rows, six lines each
 *       (the query, the gold label 0–3, the four endings), already preprocessed but built from {@code ctx}, which
 *       lacks {@code ctx_b.capitalize()}: about a third of the queries differ from lm-eval's in the case of one letter;</li>
 *   <li>{@link #train}: the first 3,368 rows of the training JSONL with their original fields (the copy is cut
 *       mid-line; the cut line is left out), from which the few-shot examples are drawn.</li>
 * </ul>
 */
final class HellaSwagDocs {
    static final int ENDINGS = 4;
    private static final Pattern BRACKETS = Pattern.compile("\\[.*?\\]");

    private HellaSwagDocs() {
    }

    /** llama.cpp's six-line layout; problems name the file and line. */
    static List<Doc> validation(Path file) {
        List<String> lines = JsonlItems.readLines(file);
        int n = lines.size();
        while (n > 0 && lines.get(n - 1).isEmpty()) n--;
        if (n == 0) throw new ShearsException(file + ": no items (the file is empty)");
        if (n % (ENDINGS + 2) != 0) {
            throw new ShearsException(file + ":" + (n / (ENDINGS + 2) * (ENDINGS + 2) + 1) + ": the last item is cut short: " + (n % (ENDINGS + 2))
                    + " lines where an item has " + (ENDINGS + 2) + " (context, label, " + ENDINGS + " endings)");
        }
        List<Doc> docs = new ArrayList<>();
        for (int start = 0; start < n; start += ENDINGS + 2) {
            String label = lines.get(start + 1).strip();
            int gold;
            try {
                gold = Integer.parseInt(label);
            } catch (NumberFormatException e) {
                throw new ShearsException(file + ":" + (start + 2) + ": the label must be a number 0-" + (ENDINGS - 1) + ", found \"" + label + "\"");
            }
            if (gold < 0 || gold >= ENDINGS) throw new ShearsException(file + ":" + (start + 2) + ": the label must be 0-" + (ENDINGS - 1) + ", found " + gold);
            List<String> endings = new ArrayList<>();
            for (int e = 0; e < ENDINGS; e++) endings.add(preprocess(lines.get(start + 2 + e)));
            docs.add(new Doc(lines.subList(start, start + ENDINGS + 2), preprocess(lines.get(start)), endings, gold));
        }
        return docs;
    }

    /**
     * Rows of the training JSONL through {@code process_docs}. A file that does not end with a newline was cut
     * mid-line (../shared/data's copy is a 2.33 MB prefix): its last, partial line is left out.
     */
    static List<Doc> train(Path file) {
        List<String> lines = JsonlItems.readLines(file);
        if (!lines.isEmpty() && !endsWithNewline(file)) lines = lines.subList(0, lines.size() - 1);
        List<Doc> docs = JsonlItems.rows(file, lines, HellaSwagDocs::processDoc);
        if (docs.isEmpty()) throw new ShearsException(file + ": no documents (the file is empty)");
        return docs;
    }

    /** {@code utils.py process_docs} on one row. */
    static Doc processDoc(JsonNode row) {
        String ctx = text(row, "ctx_a") + " " + capitalize(text(row, "ctx_b"));
        List<String> choices = new ArrayList<>();
        for (String e : texts(row, "endings")) choices.add(preprocess(e));
        JsonNode label = row.get("label");
        if (label == null || !(label.canConvertToExactIntegral() || label.isTextual())) throw new IllegalArgumentException("missing \"label\" (0-3)");
        int gold;
        try {
            gold = label.isTextual() ? Integer.parseInt(label.asText().strip()) : label.asInt();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("\"label\" must be a number 0-3, found " + label);
        }
        return new Doc(row, preprocess(text(row, "activity_label") + ": " + ctx), choices, gold);
    }

    /** lm-eval {@code hellaswag/utils.py preprocess}: strip, " [title]" → ". ", drop [bracketed] artifacts, collapse double spaces. */
    static String preprocess(String text) {
        String s = PyText.strip(text).replace(" [title]", ". ");
        s = BRACKETS.matcher(s).replaceAll("");
        return s.replace("  ", " ");
    }

    /** Python's {@code str.capitalize}: the first character in title case, the rest in lower case. */
    static String capitalize(String s) {
        if (s.isEmpty()) return s;
        int first = s.codePointAt(0);
        int rest = Character.charCount(first);
        return new StringBuilder().appendCodePoint(Character.toTitleCase(first)).append(s.substring(rest).toLowerCase(java.util.Locale.ROOT)).toString();
    }

    private static boolean endsWithNewline(Path file) {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            if (f.length() == 0) return true;
            f.seek(f.length() - 1);
            return f.read() == '\n';
        } catch (IOException e) {
            throw new ShearsException(file + ": cannot read: " + e.getMessage(), e);
        }
    }
}
