package dev.shears.eval;

import dev.shears.ShearsException;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Plain-text perplexity corpora cut into documents, as lm-evaluation-harness sees them. */
public final class TextDocuments {
    private TextDocuments() {
    }

    /**
     * WikiText-2 raw ({@code wiki.test.raw}) as lm-eval's {@code wikitext} task reads it: split into pages the way
     * the {@code EleutherAI/wikitext_document_level} dataset script does (a page starts at each top-level heading
     * line {@code " = Title = "}), each page scored after {@code wikitext_detokenizer}, words and bytes counted on
     * the page <em>before</em> detokenization ({@code lm_eval/tasks/wikitext/preprocess_wikitext.py}).
     */
    public static final ItemSource WIKITEXT = file -> {
        List<Item> items = new ArrayList<>();
        for (String page : wikiPages(String.join("\n", JsonlItems.readLines(file)) + "\n")) {
            items.add(new Item.Document(detokenize(page), Perplexity.countWords(page), page.getBytes(StandardCharsets.UTF_8).length));
        }
        if (items.isEmpty()) throw new ShearsException(file + ": no pages (the file is empty)");
        return items;
    };

    /**
     * Stories separated by blank lines (the TinyStories validation head), each one document scored from BOS,
     * words counted as lm-eval counts them.
     */
    public static final ItemSource PARAGRAPHS = file -> {
        List<Item> items = new ArrayList<>();
        for (String story : String.join("\n", JsonlItems.readLines(file)).split("\n\\s*\n")) {
            String s = story.strip();
            if (s.isEmpty()) continue;
            items.add(new Item.Document(s, Perplexity.countWords(s), s.getBytes(StandardCharsets.UTF_8).length));
        }
        if (items.isEmpty()) throw new ShearsException(file + ": no documents (the file is empty)");
        return items;
    };

    /** Pages of a WikiText file: a new page at every line that, with "= =" collapsed, reads "= Title =". */
    static List<String> wikiPages(String text) {
        List<String> pages = new ArrayList<>();
        List<String> page = new ArrayList<>();
        for (String line : text.split("\n", -1)) {
            String r = line.replace("= = =", "===").replace("= =", "==").strip();
            if (r.startsWith("= ") && r.endsWith(" =")) {
                String joined = String.join("\n", page);
                if (!joined.isBlank()) pages.add(joined);
                page.clear();
            }
            page.add(line);
        }
        String last = String.join("\n", page);
        if (!last.isBlank()) pages.add(last);
        return pages;
    }

    private static final Pattern PARENS = Pattern.compile("\\(\\s*([^)]*?)\\s*\\)");
    private static final Pattern SQUARE = Pattern.compile("\\[\\s*([^\\]]*?)\\s*\\]");
    private static final Pattern BRACES = Pattern.compile("\\{\\s*([^}]*?)\\s*\\}");
    private static final Pattern QUOTES = Pattern.compile("\"\\s*([^\"]*?)\\s*\"");
    private static final Pattern APOSTROPHES = Pattern.compile("'\\s*([^']*?)\\s*'");

    /** lm-eval's {@code wikitext_detokenizer}, step by step in its order. */
    static String detokenize(String page) {
        String s = page.replace("s '", "s'");
        s = s.replaceAll("/' [0-9]/", "/'[0-9]/");
        s = s.replace(" @-@ ", "-").replace(" @,@ ", ",").replace(" @.@ ", ".");
        s = s.replace(" : ", ": ").replace(" ; ", "; ").replace(" . ", ". ").replace(" ! ", "! ").replace(" ? ", "? ").replace(" , ", ", ");
        s = group(PARENS, s, "(", ")");
        s = group(SQUARE, s, "[", "]");
        s = group(BRACES, s, "{", "}");
        s = group(QUOTES, s, "\"", "\"");
        s = group(APOSTROPHES, s, "'", "'");
        s = s.replace("= = = =", "====").replace("= = =", "===").replace("= =", "==");
        s = s.replace(" \u00b0 ", "\u00b0").replace(" \n", "\n").replace("\n ", "\n").replace(" N ", " 1 ").replace(" 's", "'s");
        return s;
    }

    private static String group(Pattern p, String s, String open, String close) {
        return p.matcher(s).replaceAll(m -> Matcher.quoteReplacement(open + m.group(1) + close));
    }
}
