package dev.shears.tokenizer;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Hugging Face's added tokens ({@code AddedVocabulary}): literal tokens found in the raw text before
 * anything else runs (leftmost, longest first), never split; a token with {@code lstrip}/{@code rstrip}
 * also takes the whitespace beside it, and a {@code single_word} one matches only between non-word
 * characters. The text between them goes on to the normalizer and the model.
 */
final class AddedTokens {
    /** What {@link #split} finds, in text order. */
    interface Sink {
        /** A stretch of text between added tokens; {@code first} when it starts the text. */
        void text(String segment, boolean first);

        /** An added token. */
        void token(int id);
    }

    private final List<HfTokenizer.Added> added;
    /** First characters of added tokens, so plain text is scanned with one set lookup per character. */
    private final Set<Character> firstChars = new HashSet<>();

    AddedTokens(List<HfTokenizer.Added> added) {
        this.added = added;
        for (HfTokenizer.Added a : added) if (!a.content().isEmpty()) firstChars.add(a.content().charAt(0));
    }

    /** Splits {@code text} at its added tokens, handing each piece to {@code sink} in order. */
    void split(String text, Sink sink) {
        int plain = 0;
        int at = 0;
        boolean first = true;
        while (at < text.length()) {
            HfTokenizer.Added match = firstChars.contains(text.charAt(at)) ? matchAt(text, at) : null;
            if (match == null) {
                at++;
                continue;
            }
            int start = at;
            int end = at + match.content().length();
            if (match.lstrip()) while (start > plain && isWhiteSpace(text.charAt(start - 1))) start--;
            if (match.rstrip()) while (end < text.length() && isWhiteSpace(text.charAt(end))) end++;
            if (start > plain) sink.text(text.substring(plain, start), first);
            first = false;
            sink.token(match.id());
            at = end;
            plain = end;
        }
        if (plain < text.length()) sink.text(text.substring(plain), first);
    }

    /**
     * Rust's {@code char::is_whitespace}, the Unicode White_Space property, which lstrip/rstrip use:
     * unlike Java's {@code Character.isWhitespace} it includes the no-break spaces and U+0085 and
     * excludes U+001C..U+001F. (No White_Space character is a surrogate, so one {@code char} is enough.)
     */
    static boolean isWhiteSpace(char c) {
        return (c >= '\t' && c <= '\r') || c == ' ' || c == '\u0085' || c == '\u00a0' || c == '\u1680' || (c >= '\u2000' && c <= '\u200a')
                || c == '\u2028' || c == '\u2029' || c == '\u202f' || c == '\u205f' || c == '\u3000';
    }

    /** The longest added token starting at {@code at}, or null. */
    private HfTokenizer.Added matchAt(String text, int at) {
        HfTokenizer.Added best = null;
        for (HfTokenizer.Added a : added) {
            if (a.content().isEmpty() || (best != null && a.content().length() <= best.content().length())) continue;
            if (!text.startsWith(a.content(), at)) continue;
            if (a.singleWord()) {
                int end = at + a.content().length();
                if ((at > 0 && Character.isLetterOrDigit(text.charAt(at - 1))) || (end < text.length() && Character.isLetterOrDigit(text.charAt(end)))) continue;
            }
            best = a;
        }
        return best;
    }
}
