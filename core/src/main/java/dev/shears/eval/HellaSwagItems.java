package dev.shears.eval;

import dev.shears.ShearsException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * HellaSwag in llama.cpp's text layout ({@code hellaswag_val_full.txt}, what {@code llama-perplexity --hellaswag}
 * reads): six lines per item, the context ({@code activity_label + ": " + ctx}), the gold label 0–3, then the four
 * endings. Context and endings go through lm-eval's {@code hellaswag/utils.py preprocess} (idempotent on this
 * already-preprocessed file, kept so other copies read the same), and each ending is scored as {@code " " + ending}
 * with {@code acc_norm} dividing by the ending's characters (lm-eval {@code hellaswag.yaml}).
 */
public final class HellaSwagItems implements ItemSource {
    static final int ENDINGS = 4;
    private static final Pattern BRACKETS = Pattern.compile("\\[.*?\\]");

    @Override
    public List<Item> read(Path file) {
        List<String> lines = JsonlItems.readLines(file);
        int n = lines.size();
        while (n > 0 && lines.get(n - 1).isEmpty()) n--;
        if (n == 0) throw new ShearsException(file + ": no items (the file is empty)");
        if (n % (ENDINGS + 2) != 0) {
            throw new ShearsException(file + ":" + (n / (ENDINGS + 2) * (ENDINGS + 2) + 1) + ": the last item is cut short: " + (n % (ENDINGS + 2))
                    + " lines where an item has " + (ENDINGS + 2) + " (context, label, " + ENDINGS + " endings)");
        }
        List<Item> items = new ArrayList<>();
        for (int start = 0; start < n; start += ENDINGS + 2) {
            String label = lines.get(start + 1).strip();
            int gold;
            try {
                gold = Integer.parseInt(label);
            } catch (NumberFormatException e) {
                throw new ShearsException(file + ":" + (start + 2) + ": the label must be a number 0-" + (ENDINGS - 1) + ", found \"" + label + "\"");
            }
            if (gold < 0 || gold >= ENDINGS) throw new ShearsException(file + ":" + (start + 2) + ": the label must be 0-" + (ENDINGS - 1) + ", found " + gold);
            String context = preprocess(lines.get(start));
            List<Choice> choices = new ArrayList<>();
            for (int e = 0; e < ENDINGS; e++) choices.add(Choice.of(context, " ", preprocess(lines.get(start + 2 + e))));
            items.add(new Item.MultipleChoice(choices, gold));
        }
        return items;
    }

    /** lm-eval {@code hellaswag/utils.py preprocess}: strip, " [title]" → ". ", drop [bracketed] artifacts, collapse double spaces. */
    static String preprocess(String text) {
        String s = text.strip().replace(" [title]", ". ");
        s = BRACKETS.matcher(s).replaceAll("");
        return s.replace("  ", " ");
    }
}
