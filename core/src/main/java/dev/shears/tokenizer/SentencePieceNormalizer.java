package dev.shears.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * SentencePiece's normalizer with a character map (google/sentencepiece {@code normalizer.cc
 * Normalizer::Normalize}): the text is read as UTF-8 from left to right, each step taking the longest
 * user-defined piece or else the longest {@link PrecompiledCharsMap} rule at that position (or one
 * character unchanged); leading spaces are dropped and runs of spaces squeezed when
 * {@code removeExtraWhitespaces}, a dummy-prefix space is added, spaces become {@code '▁'} when
 * {@code escapeWhitespaces}, and trailing spaces are dropped.
 *
 * <pre>{@code
 * normalizer.normalize("  ﬁnal  Ｔｅｘｔ ")   // "▁final▁Text" under T5's nmt_nfkc
 * }</pre>
 *
 * @param charsMap               the normalization rules ({@link PrecompiledCharsMap#IDENTITY} for none)
 * @param userDefined            pieces copied through unnormalized where they start (sentencepiece's prefix matcher)
 * @param addDummyPrefix         a space is put before the text
 * @param removeExtraWhitespaces leading and trailing spaces are dropped, inner runs become one
 * @param escapeWhitespaces      spaces become {@code '▁'} (U+2581)
 */
public record SentencePieceNormalizer(PrecompiledCharsMap charsMap, List<String> userDefined, boolean addDummyPrefix,
                                      boolean removeExtraWhitespaces, boolean escapeWhitespaces) {
    private static final byte[] SPACE_SYMBOL = "\u2581".getBytes(StandardCharsets.UTF_8);
    private static final byte[] REPLACEMENT_CHARACTER = "\uFFFD".getBytes(StandardCharsets.UTF_8);

    public SentencePieceNormalizer {
        userDefined = List.copyOf(userDefined);
    }

    /** The normalized text, {@code ' '} already escaped as {@code '▁'} when {@code escapeWhitespaces}; empty for empty or all-space text. */
    public String normalize(String text) {
        byte[] in = text.getBytes(StandardCharsets.UTF_8);
        List<byte[]> userBytes = new ArrayList<>(userDefined.size());
        for (String u : userDefined) userBytes.add(u.getBytes(StandardCharsets.UTF_8));
        int pos = 0;
        if (removeExtraWhitespaces) { // leading spaces
            while (pos < in.length) {
                Step step = prefix(in, pos, userBytes);
                if (!(step.bytes.length == 1 && step.bytes[0] == ' ')) break;
                pos += step.consumed;
            }
        }
        if (pos == in.length) return "";
        ByteArrayOutputStream out = new ByteArrayOutputStream(in.length + 8);
        if (addDummyPrefix) out.writeBytes(escapeWhitespaces ? SPACE_SYMBOL : new byte[] {' '});
        boolean previousSpace = removeExtraWhitespaces;
        while (pos < in.length) {
            Step step = prefix(in, pos, userBytes);
            byte[] piece = step.bytes;
            int from = 0;
            if (previousSpace) while (from < piece.length && piece[from] == ' ') from++;
            if (from < piece.length) {
                for (int i = from; i < piece.length; i++) {
                    if (escapeWhitespaces && piece[i] == ' ') {
                        out.writeBytes(SPACE_SYMBOL);
                    } else {
                        out.write(piece[i]);
                    }
                }
                previousSpace = piece[piece.length - 1] == ' ';
            }
            pos += step.consumed;
            if (!removeExtraWhitespaces) previousSpace = false;
        }
        byte[] result = out.toByteArray();
        int length = result.length;
        if (removeExtraWhitespaces) { // trailing spaces
            byte[] space = escapeWhitespaces ? SPACE_SYMBOL : new byte[] {' '};
            while (length >= space.length && java.util.Arrays.equals(result, length - space.length, length, space, 0, space.length)) length -= space.length;
        }
        return new String(result, 0, length, StandardCharsets.UTF_8);
    }

    /** One step of the normalizer: the bytes it writes and the input bytes it consumes. */
    private record Step(byte[] bytes, int consumed) {
    }

    /** sentencepiece's {@code NormalizePrefix}: a user-defined piece, else the longest rule, else one UTF-8 character. */
    private Step prefix(byte[] in, int pos, List<byte[]> userBytes) {
        int longestUser = 0;
        for (byte[] u : userBytes) {
            if (u.length > longestUser && pos + u.length <= in.length && java.util.Arrays.equals(in, pos, pos + u.length, u, 0, u.length)) longestUser = u.length;
        }
        if (longestUser > 0) return new Step(java.util.Arrays.copyOfRange(in, pos, pos + longestUser), longestUser);
        int[] rule = charsMap.longestMatch(in, pos);
        if (rule != null) return new Step(charsMap.replacement(rule[1]), rule[0]);
        int length = utf8CharLength(in, pos);
        if (length == 0) return new Step(REPLACEMENT_CHARACTER, 1); // malformed UTF-8: one byte becomes U+FFFD
        return new Step(java.util.Arrays.copyOfRange(in, pos, pos + length), length);
    }

    /** The length of the valid UTF-8 character at {@code pos}, or 0 when the bytes there are malformed. */
    private static int utf8CharLength(byte[] in, int pos) {
        int b = in[pos] & 0xff;
        int length = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xe ? 3 : (b >> 3) == 0x1e ? 4 : 0;
        if (length == 0 || pos + length > in.length) return 0;
        for (int i = 1; i < length; i++) if ((in[pos + i] & 0xc0) != 0x80) return 0;
        return length;
    }

    /**
     * SentencePiece's {@code Decode} of piece texts (control pieces already left out, unknown pieces
     * given their surface): {@code '▁'} becomes a space, and the first piece's leading {@code '▁'},
     * the dummy prefix, is dropped.
     */
    public List<String> decode(List<String> pieces) {
        List<String> out = new ArrayList<>(pieces.size());
        boolean atStart = true; // sentencepiece's is_bos_ws
        for (String p : pieces) {
            String piece = p;
            boolean consumed = false;
            if (atStart && (addDummyPrefix || removeExtraWhitespaces) && !piece.isEmpty() && piece.charAt(0) == '\u2581') {
                piece = piece.substring(1);
                consumed = !removeExtraWhitespaces;
            }
            String decoded = piece.replace('\u2581', ' ');
            out.add(decoded);
            if (!decoded.isEmpty() || consumed) atStart = false;
        }
        return out;
    }
}
