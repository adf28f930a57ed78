package dev.shears.eval;

import dev.shears.ShearsException;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A Python {@code re} pattern (a str pattern, no flags) run by Java's engine with Python's meaning, for the regexes
 * of lm-evaluation-harness task YAMLs ({@code regexes_to_ignore}). The constructs whose meaning differs are
 * translated:
 * <ul>
 *   <li>{@code \w} is {@code _} or a character whose {@code str.isalnum()} holds, which in CPython 3.11 is exactly
 *       general categories L and N ({@code [\p{L}\p{N}_]}); {@code \b} and {@code \B} are boundaries between such a
 *       character and any other (or an end of the text), written as look-arounds: Java's own {@code \b} has other
 *       word characters;</li>
 *   <li>{@code \d} is category Nd, {@code \s} the 29 characters of {@code str.isspace()};</li>
 *   <li>{@code .} and {@code $} know only "\n" as a line end (Java's {@code UNIX_LINES}); {@code \Z} is the very end
 *       of the text (Java's {@code \z});</li>
 *   <li>{@code (?P<name>…)} and {@code (?P=name)} are Java's {@code (?<name>…)} and {@code \k<name>};</li>
 *   <li>inside a character class Python takes {@code [}, {@code &&} literally and {@code \b} as backspace; a
 *       {@code ]} right after the opening {@code [} (or {@code [^}) is a literal.</li>
 * </ul>
 * Everything else is passed through; the Unicode tables are Java's (Unicode 16 in Java 25, 14 in Python 3.11).
 */
public final class PyRegex {
    private static final String WORD = "\\p{L}\\p{N}_";
    private static final String SPACE = "\\t\\n\\x0B\\f\\r\\x1C-\\x1F \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";
    private static final String W = "[" + WORD + "]";

    private final String source;
    private final Pattern pattern;

    private PyRegex(String source, Pattern pattern) {
        this.source = source;
        this.pattern = pattern;
    }

    /** The Python pattern, translated; a pattern Java cannot compile is a one-line ShearsException. */
    public static PyRegex compile(String python) {
        String java = translate(python);
        try {
            return new PyRegex(python, Pattern.compile(java, Pattern.UNIX_LINES));
        } catch (PatternSyntaxException e) {
            throw new ShearsException("regex \"" + python + "\": " + e.getDescription() + " (as Java's " + java + ")");
        }
    }

    /** The pattern as Python reads it. */
    public String source() {
        return source;
    }

    /** Python's {@code re.sub(pattern, "", text)}. */
    public String remove(String text) {
        return pattern.matcher(text).replaceAll("");
    }

    /** The Java pattern with the same meaning as the Python one. */
    static String translate(String python) {
        StringBuilder out = new StringBuilder();
        boolean inClass = false;
        int n = python.length();
        for (int i = 0; i < n; i++) {
            char c = python.charAt(i);
            if (c == '\\') {
                if (i + 1 == n) throw new ShearsException("regex \"" + python + "\": it ends with a lone backslash");
                char e = python.charAt(++i);
                out.append(inClass ? inClass(e) : outside(e));
            } else if (inClass) {
                if (c == ']') inClass = false;
                out.append(c == '[' || c == '&' ? "\\" + c : String.valueOf(c));
            } else if (c == '[') {
                inClass = true;
                out.append('[');
                if (i + 1 < n && python.charAt(i + 1) == '^') out.append(python.charAt(++i));
                if (i + 1 < n && python.charAt(i + 1) == ']') {
                    out.append("\\]");
                    i++;
                }
            } else if (python.startsWith("(?P<", i)) {
                out.append("(?<");
                i += 3;
            } else if (python.startsWith("(?P=", i)) {
                int close = python.indexOf(')', i);
                if (close < 0) throw new ShearsException("regex \"" + python + "\": (?P= without its closing parenthesis");
                out.append("\\k<").append(python, i + 4, close).append('>');
                i = close;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static String outside(char escape) {
        return switch (escape) {
            case 'w' -> W;
            case 'W' -> "[^" + WORD + "]";
            case 'd' -> "\\p{Nd}";
            case 'D' -> "\\P{Nd}";
            case 's' -> "[" + SPACE + "]";
            case 'S' -> "[^" + SPACE + "]";
            case 'b' -> "(?:(?<=" + W + ")(?!" + W + ")|(?<!" + W + ")(?=" + W + "))";
            case 'B' -> "(?:(?<=" + W + ")(?=" + W + ")|(?<!" + W + ")(?!" + W + "))";
            case 'Z' -> "\\z";
            default -> "\\" + escape;
        };
    }

    private static String inClass(char escape) {
        return switch (escape) {
            case 'w' -> WORD;
            case 'W' -> "[^" + WORD + "]";
            case 'd' -> "\\p{Nd}";
            case 'D' -> "\\P{Nd}";
            case 's' -> SPACE;
            case 'S' -> "[^" + SPACE + "]";
            case 'b' -> "\\x08";
            default -> "\\" + escape;
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PyRegex r && r.source.equals(source);
    }

    @Override
    public int hashCode() {
        return source.hashCode();
    }

    @Override
    public String toString() {
        return source;
    }
}
