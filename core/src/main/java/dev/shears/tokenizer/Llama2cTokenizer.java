package dev.shears.tokenizer;

import dev.shears.ShearsException;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The llama2.c {@code tokenizer.bin} vocabulary and its {@code encode()} (karpathy/llama2.c run.c):
 * a dummy-prefix space, one token per UTF-8 character or byte-fallback tokens ({@code <0xNN>} = id
 * byte + 3), then repeated merging of the adjacent pair whose concatenation has the highest score
 * (the leftmost on ties), done by {@link BpeMerger} in near-linear time over the whole text.
 */
public final class Llama2cTokenizer implements Tokenizer {
    private static final int BOS = 1;
    private static final int EOS = 2;
    private static final int BYTE_OFFSET = 3;

    private final String[] pieces;
    private final float[] scores;
    private final Map<String, Integer> ids = new HashMap<>();
    /** (left, right) → merged piece and its score, for every pair whose concatenation is a piece. */
    private final PairTable rules;

    /**
     * A llama2.c vocabulary as {@code tokenizer.bin} holds it: the pieces in id order (0 unknown,
     * 1 BOS, 2 EOS, 3–258 the byte pieces) and their scores (merge priorities); both arrays are kept,
     * not copied.
     */
    public Llama2cTokenizer(String[] pieces, float[] scores) {
        this.pieces = pieces;
        this.scores = scores;
        Map<String, List<Integer>> all = new HashMap<>();
        for (int i = 0; i < pieces.length; i++) {
            ids.putIfAbsent(pieces[i], i);
            all.computeIfAbsent(pieces[i], k -> new ArrayList<>()).add(i);
        }
        // llama2.c looks up the concatenation of two tokens' strings and takes the first id with that
        // string; every split of every piece into two pieces is such a pair (duplicate strings included).
        rules = new PairTable(pieces.length * 8);
        for (int m = 0; m < pieces.length; m++) {
            String piece = pieces[m];
            int merged = ids.get(piece);
            if (merged != m) continue;
            for (int k = 1; k < piece.length(); k++) {
                List<Integer> lefts = all.get(piece.substring(0, k));
                List<Integer> rights = lefts == null ? null : all.get(piece.substring(k));
                if (rights == null) continue;
                for (int l : lefts) for (int r : rights) rules.putIfAbsent(l, r, merged, scores[merged]);
            }
        }
    }

    @Override
    public int vocabSize() {
        return pieces.length;
    }

    @Override
    public int[] encode(String text) {
        int[] tokens = initialTokens(text);
        return BpeMerger.merge(tokens, 0, tokens.length, rules, null, null);
    }

    /** llama2.c's quadratic merge loop, verbatim in behaviour: the oracle for {@link #encode}. */
    int[] encodeSlow(String text) {
        return BpeMerger.mergeSlow(initialTokens(text), rules);
    }

    /**
     * The pieces the encoder passes through when it builds piece {@code id} from the piece's own
     * characters (the initial per-character pieces and every intermediate merge, without {@code id}
     * itself), or null when the encoder never produces {@code id} as one token. Merges never cross the
     * boundary of a final token and, inside it, happen in the same order as in isolation, so this is
     * what every occurrence of {@code id} in any encoding was built from.
     */
    int[] mergeAncestry(int id) {
        String piece = pieces[id];
        if (piece.isEmpty() || pieceType(id) != PieceType.NORMAL) return null;
        return BpeMerger.ancestry(piece, id, c -> ids.getOrDefault(c, -1), rules, Integer.MAX_VALUE); // byte tokens never merge
    }

    /** The score of one piece (its merge priority). */
    public float score(int id) {
        return scores[id];
    }

    /** The dummy-prefix space, then one token per character, or its UTF-8 bytes when the character is not a piece. */
    private int[] initialTokens(String text) {
        if (text.isEmpty()) return new int[0];
        int[] tokens = new int[text.length() * 3 + 1];
        int n = 0;
        tokens[n++] = lookup(" ");
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            int width = Character.charCount(cp);
            Integer id = ids.get(text.substring(i, i + width));
            i += width;
            if (id != null) {
                tokens[n++] = id;
            } else {
                for (byte by : Character.toString(cp).getBytes(StandardCharsets.UTF_8)) tokens[n++] = (by & 0xff) + BYTE_OFFSET;
            }
        }
        return java.util.Arrays.copyOf(tokens, n);
    }

    private int lookup(String piece) {
        Integer id = ids.get(piece);
        if (id == null) throw new ShearsException("the llama2.c vocabulary has no '" + piece + "' token for the dummy prefix");
        return id;
    }

    @Override
    public String decode(int[] tokenIds) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : tokenIds) {
            if (id == BOS || id == EOS || id == 0) continue;
            if (id >= BYTE_OFFSET && id < BYTE_OFFSET + 256) {
                out.write(id - BYTE_OFFSET);
            } else {
                out.writeBytes(pieces[id].getBytes(StandardCharsets.UTF_8));
            }
        }
        String text = out.toString(StandardCharsets.UTF_8);
        return text.startsWith(" ") ? text.substring(1) : text;
    }

    @Override
    public String piece(int id) {
        return pieces[id];
    }

    @Override
    public PieceType pieceType(int id) {
        if (id == 0) return PieceType.UNKNOWN;
        if (id == BOS || id == EOS) return PieceType.CONTROL;
        return ByteFallback.byteOf(pieces[id]) >= 0 ? PieceType.BYTE : PieceType.NORMAL;
    }

    @Override
    public int bosId() {
        return BOS;
    }

    @Override
    public int eosId() {
        return EOS;
    }

    @Override
    public boolean addsBos() {
        return true;
    }
}
