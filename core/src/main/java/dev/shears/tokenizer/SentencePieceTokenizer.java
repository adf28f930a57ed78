package dev.shears.tokenizer;

import dev.shears.ShearsException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * <p>Only the parts of {@code ModelProto} that change ids are read; a model with a precompiled
 * normalization map (NFKC and friends) or another model type (unigram, word, char) is refused.
 *
 * <pre>{@code
 * Tokenizer t = SentencePieceTokenizer.read(Path.of("tokenizer.model"));
 * t.encode("Hello world")   // [15043, 3186] for Llama 2
 * }</pre>
 */
public final class SentencePieceTokenizer extends PieceTable {
    private static final char SPACE_SYMBOL = '\u2581';
    private static final int BPE = 2;
    private static final String[] MODEL_TYPES = {"?", "UNIGRAM", "BPE", "WORD", "CHAR"};

    private final float[] scores;
    private final int unkId;
    private final boolean byteFallback;
    private final boolean addDummyPrefix;
    private final boolean removeExtraWhitespaces;
    private final boolean escapeWhitespaces;
    private final String unkSurface;

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

    private SentencePieceTokenizer(String[] pieces, float[] scores, PieceType[] types, int unkId, int bosId, int eosId, boolean addBos,
                                   boolean byteFallback, boolean addDummyPrefix, boolean removeExtraWhitespaces, boolean escapeWhitespaces,
                                   String unkSurface) {
        super(pieces, types, bosId, eosId, addBos);
        this.scores = scores;
        this.unkId = unkId;
        this.byteFallback = byteFallback;
        this.addDummyPrefix = addDummyPrefix;
        this.removeExtraWhitespaces = removeExtraWhitespaces;
        this.escapeWhitespaces = escapeWhitespaces;
        this.unkSurface = unkSurface;
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
        if (pieces.size() != scores.length || pieces.size() != types.length) {
            throw new ShearsException("SentencePiece vocabulary: " + pieces.size() + " pieces, " + scores.length + " scores and " + types.length + " types differ in length");
        }
        int unk = -1;
        boolean bytes = false;
        for (int i = 0; i < types.length; i++) {
            if (types[i] == PieceType.UNKNOWN && unk < 0) unk = i;
            bytes |= types[i] == PieceType.BYTE;
        }
        return new SentencePieceTokenizer(pieces.toArray(String[]::new), scores.clone(), types.clone(), unk, bosId, eosId, addBos && bosId >= 0,
                bytes, addDummyPrefix, false, true, " \u2047 ");
    }

    /** Reads a {@code tokenizer.model} (a serialized {@code sentencepiece.ModelProto}). */
    public static SentencePieceTokenizer read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ShearsException(file + ": cannot read: " + e.getMessage(), e);
        }
        List<String> pieces = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        List<PieceType> types = new ArrayList<>();
        int modelType = 1; // proto default: UNIGRAM
        boolean byteFallback = false;
        int unkId = 0;
        int bosId = 1;
        int eosId = 2;
        String unkSurface = " \u2047 ";
        boolean addDummyPrefix = true;
        boolean removeExtraWhitespaces = true;
        boolean escapeWhitespaces = true;
        String normalizerName = "";
        boolean charsMap = false;
        ProtoReader model = new ProtoReader(file.toString(), bytes);
        while (model.hasMore()) {
            int tag = model.tag();
            int field = tag >>> 3;
            int wire = tag & 7;
            if (field == 1 && wire == ProtoReader.LENGTH_DELIMITED) {
                ProtoReader p = model.message();
                String piece = "";
                float score = 0f;
                int type = 1;
                while (p.hasMore()) {
                    int t = p.tag();
                    switch (t) {
                        case (1 << 3) | ProtoReader.LENGTH_DELIMITED -> piece = p.string();
                        case (2 << 3) | ProtoReader.FIXED32 -> score = p.fixed32Float();
                        case (3 << 3) | ProtoReader.VARINT -> type = (int) p.varint();
                        default -> p.skip(t & 7);
                    }
                }
                PieceType pieceType = PieceType.fromProto(type);
                if (pieceType == null) throw p.malformed("piece " + pieces.size() + " '" + piece + "' has unknown type " + type);
                pieces.add(piece);
                scores.add(score);
                types.add(pieceType);
            } else if (field == 2 && wire == ProtoReader.LENGTH_DELIMITED) {
                ProtoReader t = model.message();
                while (t.hasMore()) {
                    int tg = t.tag();
                    switch (tg) {
                        case (3 << 3) | ProtoReader.VARINT -> modelType = (int) t.varint();
                        case (35 << 3) | ProtoReader.VARINT -> byteFallback = t.varint() != 0;
                        case (40 << 3) | ProtoReader.VARINT -> unkId = (int) t.varint();
                        case (41 << 3) | ProtoReader.VARINT -> bosId = (int) t.varint();
                        case (42 << 3) | ProtoReader.VARINT -> eosId = (int) t.varint();
                        case (44 << 3) | ProtoReader.LENGTH_DELIMITED -> unkSurface = t.string();
                        default -> t.skip(tg & 7);
                    }
                }
            } else if (field == 3 && wire == ProtoReader.LENGTH_DELIMITED) {
                ProtoReader n = model.message();
                while (n.hasMore()) {
                    int tg = n.tag();
                    switch (tg) {
                        case (1 << 3) | ProtoReader.LENGTH_DELIMITED -> normalizerName = n.string();
                        case (2 << 3) | ProtoReader.LENGTH_DELIMITED -> charsMap = !n.string().isEmpty();
                        case (3 << 3) | ProtoReader.VARINT -> addDummyPrefix = n.varint() != 0;
                        case (4 << 3) | ProtoReader.VARINT -> removeExtraWhitespaces = n.varint() != 0;
                        case (5 << 3) | ProtoReader.VARINT -> escapeWhitespaces = n.varint() != 0;
                        default -> n.skip(tg & 7);
                    }
                }
            } else {
                model.skip(wire);
            }
        }
        if (pieces.isEmpty()) throw new ShearsException(file + ": not a SentencePiece model (no pieces)");
        if (modelType != BPE) {
            String name = modelType > 0 && modelType < MODEL_TYPES.length ? MODEL_TYPES[modelType] : "#" + modelType;
            throw new ShearsException(file + ": SentencePiece model type " + name + " is not supported (only BPE)");
        }
        if (charsMap) throw new ShearsException(file + ": the normalizer '" + normalizerName + "' uses a precompiled character map, which is not supported (only identity)");
        int n = pieces.size();
        if (unkId < 0 || unkId >= n) throw new ShearsException(file + ": unk id " + unkId + " is outside the " + n + " pieces");
        if (bosId >= n || eosId >= n) throw new ShearsException(file + ": BOS/EOS ids " + bosId + "/" + eosId + " are outside the " + n + " pieces");
        float[] s = new float[n];
        for (int i = 0; i < n; i++) s[i] = scores.get(i);
        return new SentencePieceTokenizer(pieces.toArray(String[]::new), s, types.toArray(PieceType[]::new), unkId, bosId, eosId, bosId >= 0,
                byteFallback, addDummyPrefix, removeExtraWhitespaces, escapeWhitespaces, unkSurface);
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
        return byteFallback;
    }

    /** Whether the normalizer adds a dummy-prefix space. */
    boolean addsDummyPrefix() {
        return addDummyPrefix;
    }

    /** SentencePiece's normalizer without a character map: optional whitespace squeezing, the dummy prefix, {@code ' '} → {@code '▁'}. */
    private String normalize(String text) {
        String s = text;
        if (removeExtraWhitespaces) {
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
        if (addDummyPrefix) s = " " + s;
        return escapeWhitespaces ? s.replace(' ', SPACE_SYMBOL) : s;
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
        } else if (byteFallback) {
            for (byte b : ch.getBytes(StandardCharsets.UTF_8)) out.add(byteIds[b & 0xff] >= 0 ? byteIds[b & 0xff] : unkId);
        } else if (out.size() == 0 || out.last() != unkId) {
            out.add(unkId); // a run of unknown characters is one unknown piece
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
                    text.append(unkSurface);
                    atStart = false;
                }
                case BYTE -> {
                    text.appendByte(ByteFallback.byteOf(pieces[id]));
                    atStart = false;
                }
                default -> {
                    String piece = pieces[id];
                    boolean consumed = false;
                    if (atStart && (addDummyPrefix || removeExtraWhitespaces) && !piece.isEmpty() && piece.charAt(0) == SPACE_SYMBOL) {
                        piece = piece.substring(1);
                        consumed = !removeExtraWhitespaces;
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
    public float score(int id) {
        return scores[id];
    }
}
