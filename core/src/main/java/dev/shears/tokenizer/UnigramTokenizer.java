package dev.shears.tokenizer;

import dev.shears.ShearsException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * A unigram language-model tokenizer (T5, ALBERT, XLM-R, mT5): each word is cut into the pieces whose
 * log-probability scores sum highest, found by Viterbi over every piece that starts at each character
 * (google/sentencepiece {@code unigram_model.cc Model::EncodeOptimized}; Hugging Face's port,
 * tokenizers {@code models/unigram/model.rs encode_optimized}). A character no piece starts with is
 * the unknown piece, scored {@code min score - 10}; consecutive unknown pieces become one.
 *
 * <p>Around the model: added tokens are split out of the raw text first ({@link AddedTokens}); each
 * stretch between them becomes words ({@link Pretokenizer}: SentencePiece's normalizer, or a
 * tokenizer.json's normalizers and pre-tokenizer); decoding joins the pieces' texts and runs a decoder
 * over them. The readers ({@code format/sentencepiece/SentencePieceModelFile.load} for
 * {@code spiece.model}, {@code format/hf/HfTokenizerReader.load} for a tokenizer.json with a
 * {@code Unigram} model) put these together.
 *
 * <pre>{@code
 * Tokenizer t5 = TokenizerLoader.load(Path.of("t5-small"));   // spiece.model or tokenizer.json
 * t5.encode("Hello world")          // [8774, 296]; the model is fed them followed by eosId() 1
 * t5.encode("<extra_id_0> dog")     // [32099, 1782]
 * }</pre>
 */
public final class UnigramTokenizer extends PieceTable {
    /** sentencepiece's {@code kUnkPenalty}: an unknown character scores this much below the lowest piece. */
    private static final double UNKNOWN_PENALTY = 10.0;

    /** Whose arithmetic and lattice the Viterbi search follows; the two differ only in rare ties. */
    public enum Rules {
        /**
         * sentencepiece: path scores kept as 32-bit floats; only normal, user-defined and unused pieces
         * are in the lattice (unused ones are never chosen); the lowest score is over normal pieces;
         * user-defined pieces score {@code bytes × max score - 0.1}.
         */
        SENTENCEPIECE,
        /** Hugging Face tokenizers: 64-bit path scores, every vocabulary entry in the lattice at its score, the lowest over all. */
        TOKENIZERS
    }

    /**
     * The pieces in id order with their scores and types, the unknown piece's id (-1 for none: an
     * unknown character is then an error) and the {@link Rules} of the search.
     */
    public record Model(List<String> pieces, double[] scores, PieceType[] types, int unkId, Rules rules) {
    }

    /** One stretch of text between added tokens to the words the model segments ({@code first} when it starts the text). */
    public interface Pretokenizer {
        List<String> words(String segment, boolean first);
    }

    /**
     * The tokens beyond and over the model: added tokens (matched in raw text; ids at or past the
     * model's pieces extend the table), BOS/EOS ids (-1 for none), whether BOS is prepended and
     * whether EOS is appended for the model (T5's {@code "$A </s>"}), and the text an unknown piece
     * decodes to.
     */
    public record Specials(List<HfTokenizer.Added> added, PieceType[] addedTypes, int bosId, int eosId, boolean addBos, boolean addEos,
                           String unkSurface) {
    }

    private final String source;
    private final Model model;
    private final Pretokenizer pretokenizer;
    private final UnaryOperator<List<String>> decoder;
    private final AddedTokens addedTokens;
    private final boolean addEos;
    private final String unkSurface;
    private final double unknownScore;
    private final double maxScore;
    /** The pieces whose scores {@link #unknownScore} (the lowest) and {@link #maxScore} come from, -1 for none. */
    private final int minScorePiece;
    private final int maxScorePiece;
    /** [pieces] UTF-8 length of each model piece (the user-defined bonus counts bytes). */
    private final int[] utf8Lengths;
    /** The lattice: a character trie of the pieces the search may use; child of (node, char) and the piece id ending at a node. */
    private final Map<Long, Integer> children = new HashMap<>();
    private int[] nodePiece = new int[1024];
    private int nodes = 1;

    /**
     * A tokenizer from its model and what runs around it.
     *
     * @param source       names the origin (a file) in error messages
     * @param pretokenizer normalizes a stretch of text and cuts it into words, {@code ' '} already {@code '▁'}
     * @param decoder      from the pieces' texts (control pieces left out, unknown ones as {@code unkSurface}) to text
     */
    public UnigramTokenizer(String source, Model model, Specials specials, Pretokenizer pretokenizer, UnaryOperator<List<String>> decoder) {
        super(new String[tableSize(model, specials)], new PieceType[tableSize(model, specials)], specials.bosId(), specials.eosId(),
                specials.addBos() && specials.bosId() >= 0);
        int n = model.pieces().size();
        if (model.scores().length != n || model.types().length != n) {
            throw new ShearsException(source + ": " + n + " pieces, " + model.scores().length + " scores and " + model.types().length + " types differ in length");
        }
        if (model.unkId() >= n) throw new ShearsException(source + ": unk id " + model.unkId() + " is outside the " + n + " pieces");
        this.source = source;
        this.model = model;
        this.pretokenizer = pretokenizer;
        this.decoder = decoder;
        this.addedTokens = new AddedTokens(specials.added());
        this.addEos = specials.addEos() && specials.eosId() >= 0;
        this.unkSurface = specials.unkSurface();
        Arrays.fill(pieces, "");
        Arrays.fill(types, PieceType.CONTROL);
        for (int i = 0; i < n; i++) {
            pieces[i] = model.pieces().get(i);
            types[i] = model.types()[i];
        }
        for (int k = 0; k < specials.added().size(); k++) {
            HfTokenizer.Added a = specials.added().get(k);
            pieces[a.id()] = a.content();
            types[a.id()] = specials.addedTypes()[k];
        }
        boolean sentencePiece = model.rules() == Rules.SENTENCEPIECE;
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        int minPiece = -1, maxPiece = -1;
        utf8Lengths = new int[n];
        Arrays.fill(nodePiece, -1);
        for (int i = 0; i < n; i++) {
            PieceType type = model.types()[i];
            String piece = model.pieces().get(i);
            utf8Lengths[i] = piece.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
            if (!sentencePiece || type == PieceType.NORMAL) {
                if (model.scores()[i] < min) minPiece = i;
                if (model.scores()[i] > max) maxPiece = i;
                min = Math.min(min, model.scores()[i]);
                max = Math.max(max, model.scores()[i]);
            }
            boolean inLattice = !sentencePiece || type == PieceType.NORMAL || type == PieceType.USER_DEFINED || type == PieceType.UNUSED;
            if (inLattice && !piece.isEmpty()) insert(piece, i);
        }
        minScorePiece = minPiece;
        maxScorePiece = maxPiece;
        // sentencepiece: const float unk_score = min_score() - kUnkPenalty (min_score_ starts at FLT_MAX)
        if (sentencePiece) {
            float minScore = min == Double.POSITIVE_INFINITY ? Float.MAX_VALUE : (float) min;
            unknownScore = (float) (minScore - UNKNOWN_PENALTY);
            maxScore = max == Double.NEGATIVE_INFINITY ? Float.MIN_VALUE : (float) max;
        } else {
            unknownScore = min - UNKNOWN_PENALTY;
            maxScore = max;
        }
    }

    /**
     * The ids (none, one or two) of the pieces whose scores the search derives others from: the lowest sets the
     * unknown piece's score, the highest the user-defined pieces' (sentencepiece). A pruned vocabulary that keeps
     * them keeps every score the search uses, so its search over a subset of the pieces finds the original
     * segmentation whenever that uses kept pieces only.
     */
    public int[] scoreAnchors() {
        return java.util.stream.IntStream.of(minScorePiece, maxScorePiece).filter(id -> id >= 0).distinct().toArray();
    }

    /** The number of pieces of the model, before added tokens (a {@code spiece.model}'s pieces; sentinels come after them). */
    public int modelPieces() {
        return model.pieces().size();
    }

    /** Entries of the piece table: the model's pieces and every added token's id. */
    private static int tableSize(Model model, Specials specials) {
        int size = model.pieces().size();
        for (HfTokenizer.Added a : specials.added()) size = Math.max(size, a.id() + 1);
        if (specials.addedTypes().length != specials.added().size()) throw new IllegalArgumentException("one type per added token");
        return size;
    }

    private void insert(String piece, int id) {
        int node = 0;
        for (int i = 0; i < piece.length(); i++) {
            long key = (long) node << 16 | piece.charAt(i);
            Integer child = children.get(key);
            if (child == null) {
                child = nodes++;
                if (child == nodePiece.length) {
                    nodePiece = Arrays.copyOf(nodePiece, child * 2);
                    Arrays.fill(nodePiece, child, nodePiece.length, -1);
                }
                children.put(key, child);
            }
            node = child;
        }
        if (nodePiece[node] < 0) nodePiece[node] = id; // the first of duplicate pieces, as a map from piece to id keeps it
    }

    @Override
    public int[] encode(String text) {
        IntList out = new IntList(text.length() / 3 + 4);
        addedTokens.split(text, new AddedTokens.Sink() {
            @Override
            public void text(String segment, boolean first) {
                for (String word : pretokenizer.words(segment, first)) {
                    if (!word.isEmpty()) segment(word, out);
                }
            }

            @Override
            public void token(int id) {
                out.add(id);
            }
        });
        return out.toArray();
    }

    /** The ids fed to the model for {@code text}: BOS when {@link #addsBos()}, the text's ids, EOS when {@link #addsEos()}. */
    public int[] encodeForModel(String text) {
        int[] ids = encode(text);
        IntList out = new IntList(ids.length + 2);
        if (addsBos()) out.add(bosId());
        out.addAll(ids);
        if (addEos) out.add(eosId());
        return out.toArray();
    }

    @Override
    public boolean addsEos() {
        return addEos;
    }

    /**
     * The Viterbi search over one word: {@code best[e]} is the best score of a segmentation of
     * {@code word[0, e)}, {@code from[e]}/{@code id[e]} the last piece of it; a position is reached by
     * every piece starting at an earlier reached position, in order of start then length, and a
     * strictly higher score replaces (so the earlier, shorter candidate keeps ties).
     */
    private void segment(String word, IntList out) {
        boolean sentencePiece = model.rules() == Rules.SENTENCEPIECE;
        int n = word.length();
        double[] best = new double[n + 1];
        int[] from = new int[n + 1];
        int[] id = new int[n + 1];
        Arrays.fill(from, -1);
        for (int start = 0; start < n; start += Character.charCount(word.codePointAt(start))) {
            if (start > 0 && from[start] < 0) continue; // not reached: cannot happen, every character is at least unknown
            double tillHere = best[start];
            int charLength = Character.charCount(word.codePointAt(start));
            boolean single = false;
            int node = 0;
            for (int k = start; k < n; k++) {
                Integer child = children.get((long) node << 16 | word.charAt(k));
                if (child == null) break;
                node = child;
                int piece = nodePiece[node];
                if (piece < 0) continue;
                PieceType type = model.types()[piece];
                if (sentencePiece && type == PieceType.UNUSED) continue;
                int end = k + 1;
                double score = sentencePiece && type == PieceType.USER_DEFINED ? (double) ((float) utf8Lengths[piece] * (float) maxScore) - 0.1 : model.scores()[piece];
                double candidate = score + tillHere;
                if (from[end] < 0 || candidate > best[end]) {
                    best[end] = sentencePiece ? (float) candidate : candidate;
                    from[end] = start;
                    id[end] = piece;
                }
                if (end - start == charLength) single = true;
            }
            if (!single) {
                int end = start + charLength;
                if (model.unkId() < 0) throw new ShearsException(source + ": '" + word.substring(start, end) + "' is no piece and the model has no unknown piece");
                double candidate = unknownScore + tillHere;
                if (from[end] < 0 || candidate > best[end]) {
                    best[end] = sentencePiece ? (float) candidate : candidate;
                    from[end] = start;
                    id[end] = model.unkId();
                }
            }
        }
        IntList reversed = new IntList(8);
        for (int end = n; end > 0; end = from[end]) reversed.add(id[end]);
        int[] path = reversed.toArray();
        boolean previousUnknown = false;
        for (int i = path.length - 1; i >= 0; i--) {
            boolean unknown = path[i] == model.unkId();
            if (!(unknown && previousUnknown)) out.add(path[i]); // a run of unknown pieces is one
            previousUnknown = unknown;
        }
    }

    /**
     * The text of {@code ids}: control pieces (pad, EOS) vanish, an unknown piece shows its surface,
     * other pieces and added tokens (the sentinels) give their text, then the decoder joins them
     * ({@code '▁'} to space, the first piece's leading space dropped).
     */
    @Override
    public String decode(int[] ids) {
        List<String> texts = new ArrayList<>(ids.length);
        for (int id : ids) {
            switch (types[id]) {
                case CONTROL -> {
                }
                case UNKNOWN -> texts.add(unkSurface);
                default -> texts.add(pieces[id]);
            }
        }
        return String.join("", decoder.apply(texts));
    }

    /** The score of model piece {@code id} (its log probability). */
    public double score(int id) {
        return model.scores()[id];
    }
}
