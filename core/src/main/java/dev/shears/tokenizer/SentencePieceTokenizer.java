package dev.shears.tokenizer;

import dev.shears.ShearsException;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A SentencePiece BPE model ({@code tokenizer.model}, google/sentencepiece {@code bpe_model.cc}), as
 * used by Llama 1/2, Mistral and TinyLlama: the normalizer's dummy-prefix space and whitespace
 * escaping ({@code ' '} → {@code '▁'}), user-defined symbols matched literally, then merges of the
 * adjacent pair whose concatenation is a piece with the highest score (leftmost on ties), unused
 * pieces re-split, and byte fallback ({@code <0xNN>}) for characters that are no piece.
 *
 * <p>Its reader ({@code format/sentencepiece/SentencePieceModelFile}) takes only the parts of
 * {@code ModelProto} that change ids; a BPE model with a precompiled normalization map (NFKC and
 * friends) or a word or char model is refused there, and a unigram model (T5's {@code spiece.model})
 * is a {@link UnigramTokenizer}.
 *
 * <pre>{@code
 * Tokenizer t = SentencePieceModelFile.read(Path.of("tokenizer.model"));   // dev.shears.format.sentencepiece
 * t.encode("Hello world")   // [15043, 3186] for Llama 2
 * }</pre>
 */
public final class SentencePieceTokenizer extends PieceTable {
    /**
     * The settings of {@code ModelProto} that change ids or text besides the pieces: from the trainer
     * spec, the unknown id, byte fallback and the unknown piece's surface in decoded text; from the
     * normalizer spec (without a character map), the dummy-prefix space, whitespace squeezing and
     * {@code ' '} → {@code '▁'} escaping.
     */
    public record Settings(int unkId, boolean byteFallback, String unkSurface, boolean addDummyPrefix, boolean removeExtraWhitespaces,
                           boolean escapeWhitespaces) {
    }

    private static final char SPACE_SYMBOL = '\u2581';

    private final float[] scores;
    private final Settings settings;

    /** NORMAL, USER_DEFINED and UNUSED pieces: the ones merges may produce (SentencePiece's {@code pieces_}). */
    private final Map<String, Integer> mergeable = new HashMap<>();
    /** Every other piece (control, unknown, byte): found by {@code PieceToId} but never merged into. */
    private final Map<String, Integer> reserved = new HashMap<>();
    /** Single characters that occur inside pieces but are no piece themselves: ids from {@code pieces.length}. */
    private final Map<Integer, Integer> atoms = new HashMap<>();
    private final List<Integer> atomCodePoints = new ArrayList<>();
    /** User-defined pieces by first character, longest first. */
    private final Map<Integer, List<String>> userDefined = new HashMap<>();
    private final int[] byteIds = new int[256];
    private final PairTable rules;
    /** For UNUSED pieces, the last pair seen forming them (-1 when never); null when the model has none. */
    private final int[] revLeft;
    private final int[] revRight;

    private SentencePieceTokenizer(String[] pieces, float[] scores, PieceType[] types, int bosId, int eosId, boolean addBos, Settings settings) {
        super(pieces, types, bosId, eosId, addBos);
        this.scores = scores;
        this.settings = settings;
        Arrays.fill(byteIds, -1);
        boolean hasUnused = false;
        for (int i = 0; i < pieces.length; i++) {
            PieceType type = types[i];
            boolean merges = type == PieceType.NORMAL || type == PieceType.USER_DEFINED || type == PieceType.UNUSED;
            (merges ? mergeable : reserved).putIfAbsent(pieces[i], i);
            if (type == PieceType.USER_DEFINED && !pieces[i].isEmpty()) userDefined.computeIfAbsent(pieces[i].codePointAt(0), k -> new ArrayList<>()).add(pieces[i]);
            if (type == PieceType.BYTE) {
                int b = ByteFallback.byteOf(pieces[i]);
                if (b >= 0 && byteIds[b] < 0) byteIds[b] = i;
            }
            hasUnused |= type == PieceType.UNUSED;
        }
        for (List<String> list : userDefined.values()) list.sort((a, b) -> b.length() - a.length());
        for (String piece : mergeable.keySet()) {
            piece.codePoints().forEach(cp -> {
                if (!mergeable.containsKey(Character.toString(cp)) && !atoms.containsKey(cp)) {
                    atoms.put(cp, pieces.length + atomCodePoints.size());
                    atomCodePoints.add(cp);
                }
            });
        }
        // Every split of a mergeable piece into two symbols is a rule: SentencePiece looks the
        // concatenated string up, so whichever two symbols spell the piece, they merge into it.
        rules = new PairTable(pieces.length * 8);
        for (Map.Entry<String, Integer> e : mergeable.entrySet()) {
            String piece = e.getKey();
            int merged = e.getValue();
            for (int k = piece.offsetByCodePoints(0, 1); k < piece.length(); k = piece.offsetByCodePoints(k, 1)) {
                int left = symbolId(piece.substring(0, k));
                int right = symbolId(piece.substring(k));
                rules.putIfAbsent(left, right, merged, scores[merged]);
            }
        }
        if (hasUnused) {
            revLeft = new int[pieces.length + atomCodePoints.size()];
            revRight = new int[revLeft.length];
            Arrays.fill(revLeft, -2);
            for (int i = 0; i < pieces.length; i++) if (types[i] == PieceType.UNUSED) revLeft[i] = -1;
        } else {
            revLeft = null;
            revRight = null;
        }
    }

    /** The id of a symbol string during merging: a mergeable piece, an atom, or -1. */
    private int symbolId(String s) {
        Integer id = mergeable.get(s);
        if (id != null) return id;
        if (s.codePointCount(0, s.length()) == 1) {
            Integer atom = atoms.get(s.codePointAt(0));
            if (atom != null) return atom;
        }
        return -1;
    }

    /**
     * A SentencePiece-style BPE tokenizer from a vocabulary given piece by piece, as a GGUF file's
     * {@code tokenizer.ggml.model = "llama"} carries it ({@code tokens}, {@code scores},
     * {@code token_type}). Byte fallback is on when there are {@link PieceType#BYTE} pieces; the
     * unknown id is the first {@link PieceType#UNKNOWN} piece; the dummy prefix is added.
     */
    public static SentencePieceTokenizer of(List<String> pieces, float[] scores, PieceType[] types, int bosId, int eosId, boolean addBos) {
        return of(pieces, scores, types, bosId, eosId, addBos, true);
    }

    /** As {@link #of(List, float[], PieceType[], int, int, boolean)}, choosing whether a dummy-prefix space is added ({@code tokenizer.ggml.add_space_prefix}). */
    public static SentencePieceTokenizer of(List<String> pieces, float[] scores, PieceType[] types, int bosId, int eosId, boolean addBos,
                                           boolean addDummyPrefix) {
        int unk = -1;
        boolean bytes = false;
        for (int i = 0; i < types.length; i++) {
            if (types[i] == PieceType.UNKNOWN && unk < 0) unk = i;
            bytes |= types[i] == PieceType.BYTE;
        }
        return of(pieces, scores, types, bosId, eosId, addBos, new Settings(unk, bytes, " \u2047 ", addDummyPrefix, false, true));
    }

    /**
     * A SentencePiece BPE tokenizer from its pieces, scores and types (in id order) and its
     * {@link Settings}, as a {@code tokenizer.model} reader has them. BOS is prepended when
     * {@code addBos} and there is a BOS id ({@code bosId >= 0}).
     */
    public static SentencePieceTokenizer of(List<String> pieces, float[] scores, PieceType[] types, int bosId, int eosId, boolean addBos,
                                           Settings settings) {
        if (pieces.size() != scores.length || pieces.size() != types.length) {
            throw new ShearsException("SentencePiece vocabulary: " + pieces.size() + " pieces, " + scores.length + " scores and " + types.length + " types differ in length");
        }
        return new SentencePieceTokenizer(pieces.toArray(String[]::new), scores.clone(), types.clone(), bosId, eosId, addBos && bosId >= 0, settings);
    }

    /**
     * The pieces the encoder passes through when it builds piece {@code id} from the piece's own
     * characters (initial single-character pieces and every intermediate merge, without {@code id}
     * itself; characters that are only atoms are left out), or null when {@code id} is not a mergeable
     * piece the encoder produces as one symbol. See {@link Llama2cTokenizer#mergeAncestry}.
     */
    int[] mergeAncestry(int id) {
        String piece = pieces[id];
        if (piece.isEmpty() || mergeable.get(piece) == null || mergeable.get(piece) != id) return null;
        return BpeMerger.ancestry(piece, id, this::symbolId, rules, pieces.length);
    }

    /** Whether characters outside the vocabulary become {@code <0xNN>} pieces (else the unknown piece). */
    boolean byteFallback() {
        return settings.byteFallback();
    }

    /** Whether the normalizer adds a dummy-prefix space. */
    boolean addsDummyPrefix() {
        return settings.addDummyPrefix();
    }

    /** SentencePiece's normalizer without a character map: optional whitespace squeezing, the dummy prefix, {@code ' '} → {@code '▁'}. */
    private String normalize(String text) {
        String s = text;
        if (settings.removeExtraWhitespaces()) {
            StringBuilder b = new StringBuilder(s.length());
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == ' ' && (b.isEmpty() || b.charAt(b.length() - 1) == ' ')) continue;
                b.append(c);
            }
            while (!b.isEmpty() && b.charAt(b.length() - 1) == ' ') b.setLength(b.length() - 1);
            s = b.toString();
        }
        if (s.isEmpty()) return s;
        if (settings.addDummyPrefix()) s = " " + s;
        return settings.escapeWhitespaces() ? s.replace(' ', SPACE_SYMBOL) : s;
    }

    @Override
    public int[] encode(String text) {
        String normalized = normalize(text);
        int[] symbols = new int[normalized.length()];
        boolean[] frozen = new boolean[normalized.length()];
        int n = 0;
        for (int i = 0; i < normalized.length(); ) {
            int cp = normalized.codePointAt(i);
            String match = null;
            List<String> candidates = userDefined.get(cp);
            if (candidates != null) {
                for (String c : candidates) {
                    if (normalized.startsWith(c, i)) {
                        match = c;
                        break;
                    }
                }
            }
            if (match != null) {
                frozen[n] = true;
                symbols[n++] = mergeable.get(match);
                i += match.length();
            } else {
                int width = Character.charCount(cp);
                int id = symbolId(normalized.substring(i, i + width));
                symbols[n++] = id >= 0 ? id : -1 - cp;
                i += width;
            }
        }
        IntList out = new IntList(n);
        int start = 0;
        for (int i = 0; i <= n; i++) {
            if (i == n || frozen[i]) {
                if (i > start) {
                    for (int id : BpeMerger.merge(symbols, start, i, rules, revLeft, revRight)) emit(id, out);
                }
                if (i < n) out.add(symbols[i]);
                start = i + 1;
            }
        }
        return out.toArray();
    }

    /** One merged symbol to output ids: unused pieces re-split, characters outside the vocabulary to bytes or unk. */
    private void emit(int id, IntList out) {
        if (id >= 0 && id < pieces.length) {
            if (types[id] == PieceType.UNUSED && revLeft != null && revLeft[id] >= 0) {
                emit(revLeft[id], out);
                emit(revRight[id], out);
            } else {
                out.add(id);
            }
            return;
        }
        int cp = id >= pieces.length ? atomCodePoints.get(id - pieces.length) : -1 - id;
        String ch = Character.toString(cp);
        Integer special = reserved.get(ch);
        if (special != null && types[special] != PieceType.UNKNOWN) {
            out.add(special);
        } else if (settings.byteFallback()) {
            for (byte b : ch.getBytes(StandardCharsets.UTF_8)) out.add(byteIds[b & 0xff] >= 0 ? byteIds[b & 0xff] : settings.unkId());
        } else if (out.size() == 0 || out.last() != settings.unkId()) {
            out.add(settings.unkId()); // a run of unknown characters is one unknown piece
        }
    }

    /**
     * SentencePiece's {@code Decode}: control pieces vanish, unknown ones show the unknown surface
     * ({@code " ⁇ "}), byte pieces are gathered and read as UTF-8, {@code '▁'} becomes a space, and
     * the first piece's leading {@code '▁'} (the dummy prefix) is dropped.
     */
    @Override
    public String decode(int[] ids) {
        ByteFallback.Decoder text = new ByteFallback.Decoder();
        boolean atStart = true; // SentencePiece's is_bos_ws
        for (int id : ids) {
            switch (types[id]) {
                case CONTROL -> {
                }
                case UNKNOWN -> {
                    text.append(settings.unkSurface());
                    atStart = false;
                }
                case BYTE -> {
                    text.appendByte(ByteFallback.byteOf(pieces[id]));
                    atStart = false;
                }
                default -> {
                    String piece = pieces[id];
                    boolean consumed = false;
                    if (atStart && (settings.addDummyPrefix() || settings.removeExtraWhitespaces()) && !piece.isEmpty() && piece.charAt(0) == SPACE_SYMBOL) {
                        piece = piece.substring(1);
                        consumed = !settings.removeExtraWhitespaces();
                    }
                    String decoded = piece.replace(SPACE_SYMBOL, ' ');
                    text.append(decoded);
                    if (!decoded.isEmpty() || consumed) atStart = false;
                }
            }
        }
        return text.toString();
    }

    /** The score of one piece (its merge priority). */
    /** How text is normalised and unknown text handled, as a {@code tokenizer.model} states it. */
    public Settings settings() {
        return settings;
    }

    public float score(int id) {
        return scores[id];
    }
}
