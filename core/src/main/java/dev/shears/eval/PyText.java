package dev.shears.eval;

import java.util.ArrayList;
import java.util.List;

/**
 * The few Python string operations lm-evaluation-harness's task templates apply, written out so that a
 * document renders to the same text: {@code str.strip()}/{@code lstrip()} (Python's whitespace, not Java's)
 * and {@code csv.reader} with the default dialect (how the hendrycks_test loader reads MMLU).
 */
public final class PyText {
    private PyText() {
    }

    /** Python's {@code str.isspace()} for one UTF-16 unit: Unicode White_Space plus U+001C–U+001F. */
    static boolean isSpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085';
    }

    /** Python's {@code s.strip()}. */
    public static String strip(String s) {
        int from = 0;
        int to = s.length();
        while (from < to && isSpace(s.charAt(from))) from++;
        while (to > from && isSpace(s.charAt(to - 1))) to--;
        return s.substring(from, to);
    }

    /** Python's {@code s.lstrip()}. */
    public static String lstrip(String s) {
        int from = 0;
        while (from < s.length() && isSpace(s.charAt(from))) from++;
        return s.substring(from);
    }

    /** Python's {@code csv.reader} (default dialect) over a whole file: quoted fields may hold commas, "" and newlines. */
    public static List<List<String>> csv(String text) {
        List<List<String>> rows = new ArrayList<>();
        List<String> row = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        boolean fieldStart = true;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') {
                    field.append('"');
                    i++;
                } else if (c == '"') quoted = false;
                else field.append(c);
            } else if (c == '"' && fieldStart) {
                quoted = true;
                fieldStart = false;
            } else if (c == ',') {
                row.add(field.toString());
                field.setLength(0);
                fieldStart = true;
            } else if (c == '\n' || c == '\r') {
                if (c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') i++;
                row.add(field.toString());
                field.setLength(0);
                rows.add(row);
                row = new ArrayList<>();
                fieldStart = true;
            } else {
                field.append(c);
                fieldStart = false;
            }
        }
        if (!fieldStart || !row.isEmpty()) {
            row.add(field.toString());
            rows.add(row);
        }
        return rows;
    }
}
