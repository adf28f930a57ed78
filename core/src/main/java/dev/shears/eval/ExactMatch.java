package dev.shears.eval;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * lm-evaluation-harness's {@code exact_match} metric with a task YAML's options ({@code exact_match_hf_evaluate} in
 * {@code lm_eval/api/metrics.py} at 4e7e0d47f, lines 210–242, ported from Hugging Face evaluate), as
 * {@code ConfigurableTask.process_results} applies it to a document whose target is a list of answers
 * ({@code lm_eval/api/task.py} lines 1578–1620): the prediction repeated once per answer and the answers are
 * normalised as two arrays, then compared element-wise; the document scores 1 when any answer matches.
 *
 * <p>Normalisation, in lm-eval's order, on each array:
 * <ol>
 *   <li>each of {@code regexes_to_ignore} in turn: {@code re.sub(regex, "", s)} ({@link PyRegex});</li>
 *   <li>{@code ignore_case}: {@code np.char.lower}, Python's {@code str.lower};</li>
 *   <li>{@code ignore_punctuation}: the 32 ASCII characters of {@code string.punctuation} deleted (curly quotes,
 *       dashes and other non-ASCII punctuation stay);</li>
 *   <li>{@code ignore_numbers}: the ASCII digits deleted.</li>
 * </ol>
 * The arrays are numpy {@code str_} arrays, and two of numpy's rules change results: an array's width is the
 * longest element's length in code points and {@code np.char.lower} keeps the width, so a string that lower-casing
 * lengthens ({@code "İ"} becomes {@code "i̇"}) is cut to the width of its array; and an element is read back without
 * its trailing NUL characters. Both are reproduced ({@code ExactMatchTest} compares with Debian's python3 3.11.2).
 *
 * @param regexesToIgnore   {@code regexes_to_ignore}, Python patterns
 * @param ignoreCase        {@code ignore_case}
 * @param ignorePunctuation {@code ignore_punctuation}
 * @param ignoreNumbers     {@code ignore_numbers}
 */
public record ExactMatch(List<PyRegex> regexesToIgnore, boolean ignoreCase, boolean ignorePunctuation, boolean ignoreNumbers) {
    /** Python's {@code string.punctuation}. */
    static final String PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    /** Python's {@code string.digits}. */
    static final String DIGITS = "0123456789";

    public ExactMatch {
        regexesToIgnore = List.copyOf(regexesToIgnore);
    }

    /** The YAML's options with its {@code regexes_to_ignore} given as Python patterns. */
    public static ExactMatch of(List<String> regexesToIgnore, boolean ignoreCase, boolean ignorePunctuation) {
        return new ExactMatch(regexesToIgnore.stream().map(PyRegex::compile).toList(), ignoreCase, ignorePunctuation, false);
    }

    /** 1 when the prediction equals any of the targets after normalisation, else 0 (lm-eval's multiple-target rule). */
    public double score(String prediction, List<String> targets) {
        Objects.requireNonNull(prediction, "prediction");
        if (targets.isEmpty()) return 0; // np.mean([]) is nan, and nan > 0.0 is False
        String p = normalize(Collections.nCopies(targets.size(), prediction)).get(0);
        for (String t : normalize(targets)) if (t.equals(p)) return 1;
        return 0;
    }

    /** One array's normalisation: what {@code exact_match_hf_evaluate} compares. */
    List<String> normalize(List<String> strings) {
        // np.array([re.sub(s, "", x) for x in strings]) per regex, the first over the Python strings themselves; else np.asarray
        StrArray a = null;
        List<String> current = strings;
        for (PyRegex r : regexesToIgnore) {
            a = StrArray.of(current.stream().map(r::remove).toList());
            current = a.values;
        }
        if (a == null) a = StrArray.of(strings);
        if (ignoreCase) a = a.map(s -> s.toLowerCase(Locale.ROOT));
        if (ignorePunctuation) a = a.map(s -> delete(s, PUNCTUATION));
        if (ignoreNumbers) a = a.map(s -> delete(s, DIGITS));
        return a.values;
    }

    /** {@code s.translate(str.maketrans("", "", chars))}. */
    static String delete(String s, String chars) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) if (chars.indexOf(s.charAt(i)) < 0) out.append(s.charAt(i));
        return out.toString();
    }

    /**
     * A numpy {@code str_} array: {@code np.array(list_of_str)} has dtype {@code <U{width}}, the width being the
     * longest string's length in code points (trailing NULs included); an element is stored cut to the width and
     * read back without trailing NULs. The {@code np.char} functions call the str method on each element and store
     * the result in an array of the same dtype ({@code _vec_string(a, a.dtype, 'lower')}).
     */
    private record StrArray(List<String> values, int width) {
        static StrArray of(List<String> strings) {
            int width = 1; // numpy's smallest str_ dtype is <U1
            for (String s : strings) width = Math.max(width, s.codePointCount(0, s.length()));
            List<String> values = new ArrayList<>(strings.size());
            for (String s : strings) values.add(stored(s, width));
            return new StrArray(values, width);
        }

        StrArray map(java.util.function.UnaryOperator<String> method) {
            List<String> out = new ArrayList<>(values.size());
            for (String s : values) out.add(stored(method.apply(s), width));
            return new StrArray(out, width);
        }

        private static String stored(String s, int width) {
            if (s.codePointCount(0, s.length()) > width) s = s.substring(0, s.offsetByCodePoints(0, width));
            int end = s.length();
            while (end > 0 && s.charAt(end - 1) == '\0') end--;
            return s.substring(0, end);
        }
    }
}
