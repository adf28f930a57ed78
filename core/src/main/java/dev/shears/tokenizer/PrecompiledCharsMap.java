package dev.shears.tokenizer;

import dev.shears.ShearsException;

import java.nio.charset.StandardCharsets;
import java.text.BreakIterator;

/**
 * SentencePiece's precompiled character map ({@code NormalizerSpec.precompiled_charsmap}, the
 * {@code nmt_nfkc} rules of T5, ALBERT, XLM-R…): a Darts-clone double-array trie over UTF-8 byte
 * strings whose values are offsets into a block of NUL-terminated replacement strings. The blob is
 * {@code <trie size in bytes, u32 little-endian><trie: u32 units><replacements>}
 * (google/sentencepiece {@code normalizer.cc DecodePrecompiledCharsMap}).
 *
 * <p>Two lookups read it: {@link #longestMatch} is sentencepiece's {@code NormalizePrefix} (the
 * longest rule at a position of the input), {@link #normalizeGraphemes} is Hugging Face's
 * {@code Precompiled} normalizer (whole grapheme clusters first, taking the first, shortest, rule).
 */
public final class PrecompiledCharsMap {
    /** The map of an empty {@code precompiled_charsmap}: no rules, text stays as it is. */
    public static final PrecompiledCharsMap IDENTITY = new PrecompiledCharsMap("(identity)", new int[0], new byte[0]);

    /** Hugging Face tries a grapheme cluster as a whole only when it is shorter than this many UTF-8 bytes. */
    private static final int GRAPHEME_BYTES_LIMIT = 6;

    private final String source;
    /** The double-array units. */
    private final int[] units;
    /** The NUL-terminated replacement strings, UTF-8. */
    private final byte[] replacements;

    private PrecompiledCharsMap(String source, int[] units, byte[] replacements) {
        this.source = source;
        this.units = units;
        this.replacements = replacements;
    }

    /** Parses a {@code precompiled_charsmap} blob; {@code source} names it in errors. An empty blob is {@link #IDENTITY}. */
    public static PrecompiledCharsMap parse(byte[] blob, String source) {
        if (blob.length == 0) return IDENTITY;
        if (blob.length < 4) throw new ShearsException(source + ": precompiled_charsmap is " + blob.length + " bytes, shorter than its 4-byte header");
        long trieBytes = Integer.toUnsignedLong((blob[0] & 0xff) | (blob[1] & 0xff) << 8 | (blob[2] & 0xff) << 16 | (blob[3] & 0xff) << 24);
        if (trieBytes >= blob.length - 4L || trieBytes % 4 != 0 || trieBytes == 0) {
            throw new ShearsException(source + ": precompiled_charsmap's trie size " + trieBytes + " does not fit its " + blob.length + " bytes");
        }
        int[] units = new int[(int) (trieBytes / 4)];
        for (int i = 0; i < units.length; i++) {
            int at = 4 + 4 * i;
            units[i] = (blob[at] & 0xff) | (blob[at + 1] & 0xff) << 8 | (blob[at + 2] & 0xff) << 16 | (blob[at + 3] & 0xff) << 24;
        }
        byte[] replacements = java.util.Arrays.copyOfRange(blob, 4 + (int) trieBytes, blob.length);
        return new PrecompiledCharsMap(source, units, replacements);
    }

    // Darts-clone's DoubleArrayUnit: has_leaf, value, label, offset.
    private static boolean hasLeaf(int unit) {
        return ((unit >>> 8) & 1) == 1;
    }

    private static int value(int unit) {
        return unit & 0x7fffffff;
    }

    private static int label(int unit) {
        return unit & (0x80000000 | 0xff);
    }

    private static int offset(int unit) {
        return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
    }

    /**
     * Darts' {@code commonPrefixSearch} over {@code key[from, to)}: every rule that is a prefix of it,
     * shortest first, as {@code (length, value)} pairs into {@code out}; returns how many were found
     * (at most {@code out.length / 2} are stored). A NUL byte ends the key, as in sentencepiece.
     */
    private int prefixSearch(byte[] key, int from, int to, int[] out) {
        if (units.length == 0) return 0;
        int found = 0;
        int nodePos = offset(units[0]);
        for (int i = from; i < to; i++) {
            int c = key[i] & 0xff;
            if (c == 0) break;
            nodePos ^= c;
            if (nodePos < 0 || nodePos >= units.length) return found;
            int unit = units[nodePos];
            if (label(unit) != c) return found;
            nodePos ^= offset(unit);
            if (nodePos < 0 || nodePos >= units.length) return found;
            if (hasLeaf(unit)) {
                if (2 * found + 1 < out.length) {
                    out[2 * found] = i + 1 - from;
                    out[2 * found + 1] = value(units[nodePos]);
                }
                found++;
            }
        }
        return found;
    }

    /**
     * The longest rule at {@code key[from..]} as {@code {length, value}}, or null when none applies
     * (sentencepiece's {@code NormalizePrefix}, which keeps up to 32 matches).
     */
    int[] longestMatch(byte[] key, int from) {
        int[] results = new int[64];
        int found = Math.min(prefixSearch(key, from, key.length, results), 32);
        int length = 0;
        int value = 0;
        for (int k = 0; k < found; k++) {
            if (length == 0 || results[2 * k] > length) {
                length = results[2 * k];
                value = results[2 * k + 1];
            }
        }
        return length == 0 ? null : new int[] {length, value};
    }

    /** The replacement bytes at {@code value}: up to the next NUL. */
    byte[] replacement(int value) {
        if (value < 0 || value >= replacements.length) {
            throw new ShearsException(source + ": precompiled_charsmap points at replacement " + value + " past its " + replacements.length + " bytes");
        }
        int end = value;
        while (end < replacements.length && replacements[end] != 0) end++;
        return java.util.Arrays.copyOfRange(replacements, value, end);
    }

    /** Hugging Face's {@code Precompiled::transform}: the first (shortest) rule that is a prefix of {@code chunk}, or null. */
    private String transform(String chunk) {
        byte[] bytes = chunk.getBytes(StandardCharsets.UTF_8);
        int[] first = new int[2];
        if (prefixSearch(bytes, 0, bytes.length, first) == 0) return null;
        return new String(replacement(first[1]), StandardCharsets.UTF_8);
    }

    /**
     * Hugging Face's {@code Precompiled} normalizer (tokenizers {@code normalizers/precompiled.rs}): each
     * extended grapheme cluster shorter than 6 UTF-8 bytes is looked up whole, and when a rule is a
     * prefix of it the cluster becomes that rule's replacement (the shortest such rule, even if it
     * covers only part of the cluster); otherwise each character is looked up on its own.
     */
    public String normalizeGraphemes(String text) {
        if (units.length == 0 || text.isEmpty()) return text;
        StringBuilder out = new StringBuilder(text.length());
        BreakIterator graphemes = BreakIterator.getCharacterInstance(java.util.Locale.ROOT);
        graphemes.setText(text);
        int start = graphemes.first();
        for (int end = graphemes.next(); end != BreakIterator.DONE; start = end, end = graphemes.next()) {
            String grapheme = text.substring(start, end);
            if (utf8Length(grapheme) < GRAPHEME_BYTES_LIMIT) {
                String whole = transform(grapheme);
                if (whole != null) {
                    out.append(whole);
                    continue;
                }
            }
            for (int i = 0; i < grapheme.length(); ) {
                int width = Character.charCount(grapheme.codePointAt(i));
                String ch = grapheme.substring(i, i + width);
                String replaced = transform(ch);
                out.append(replaced != null ? replaced : ch);
                i += width;
            }
        }
        return out.toString();
    }

    private static int utf8Length(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            i += Character.charCount(cp);
        }
        return n;
    }
}
