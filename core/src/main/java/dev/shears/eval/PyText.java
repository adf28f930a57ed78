package dev.shears.eval;

import java.util.ArrayList;
import java.util.List;

/**
 * The few Python string operations lm-evaluation-harness's task templates apply, written out so that a
 * document renders to the same text: {@code str.strip()}/{@code lstrip()} (Python's whitespace, not Java's)
 * {@code csv.reader} with the default dialect (how the hendrycks_test loader reads MMLU), and
 * {@code ast.literal_eval} of a list of string literals (how DPR's question files store their answers).
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
        return csv(text, ',');
    }

    /** Python's {@code csv.reader(f, delimiter=delimiter)}, otherwise the default dialect (DPR reads its question files with "\t"). */
    public static List<List<String>> csv(String text, char delimiter) {
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
            } else if (c == delimiter) {
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

    /**
     * Python's {@code ast.literal_eval} of a list of str literals, as {@code repr(list)} writes it: {@code ['a', "b's"]}.
     * Each literal in single or double quotes with Python's escapes ({@code \\ \' \" \n \t \r \xhh \\uhhhh \Uhhhhhhhh}, and a
     * backslash before a newline); raw, byte and triple-quoted strings, implicit concatenation and other values are rejected.
     *
     * @throws IllegalArgumentException naming the position and the problem
     */
    public static List<String> stringList(String literal) {
        String s = strip(literal);
        if (!s.startsWith("[") || !s.endsWith("]")) throw new IllegalArgumentException("expected a Python list of strings ['…', …], found " + preview(s));
        List<String> out = new ArrayList<>();
        int i = skipSpaces(s, 1);
        while (i < s.length() - 1) {
            char quote = s.charAt(i);
            if (quote != '\'' && quote != '"') throw new IllegalArgumentException("character " + (i + 1) + ": expected a quoted string, found " + preview(s.substring(i)));
            StringBuilder text = new StringBuilder();
            i++;
            while (true) {
                if (i >= s.length() - 1) throw new IllegalArgumentException("character " + (i + 1) + ": the string is not closed");
                char c = s.charAt(i++);
                if (c == quote) break;
                if (c != '\\') {
                    text.append(c);
                    continue;
                }
                char e = s.charAt(i++);
                switch (e) {
                    case '\\', '\'', '"' -> text.append(e);
                    case 'n' -> text.append('\n');
                    case 't' -> text.append('\t');
                    case 'r' -> text.append('\r');
                    case '\n' -> { } // line continuation
                    case 'x', 'u', 'U' -> {
                        int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                        if (i + digits > s.length()) throw new IllegalArgumentException("character " + i + ": \\" + e + " needs " + digits + " hex digits");
                        try {
                            text.appendCodePoint(Integer.parseInt(s.substring(i, i + digits), 16));
                        } catch (IllegalArgumentException bad) {
                            throw new IllegalArgumentException("character " + i + ": \\" + e + " needs " + digits + " hex digits, found " + s.substring(i, i + digits));
                        }
                        i += digits;
                    }
                    default -> throw new IllegalArgumentException("character " + i + ": unsupported escape \\" + e);
                }
            }
            out.add(text.toString());
            i = skipSpaces(s, i);
            if (i < s.length() - 1) {
                if (s.charAt(i) != ',') throw new IllegalArgumentException("character " + (i + 1) + ": expected ',' or ']' after a string, found " + preview(s.substring(i)));
                i = skipSpaces(s, i + 1);
            }
        }
        return out;
    }

    private static int skipSpaces(String s, int i) {
        while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) i++;
        return i;
    }

    private static String preview(String s) {
        return "\"" + (s.length() > 40 ? s.substring(0, 40) + "…" : s) + "\"";
    }
}
