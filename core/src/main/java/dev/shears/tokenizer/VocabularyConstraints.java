package dev.shears.tokenizer;

import dev.shears.ShearsException;

import java.util.Arrays;
import java.util.BitSet;

/**
 * What a pruned vocabulary of a tokenizer must contain for the pruned tokenizer to stay sound.
 *
 * <p><b>Mandatory entries</b> ({@link #mandatory}): every entry that is not {@link PieceType#NORMAL}
 * (unknown, control, user-defined, unused and byte-fallback {@code <0xNN>} pieces), BOS and EOS, the
 * dummy-prefix piece ({@code " "} for llama2.c, {@code "▁"} for SentencePiece), and, for a
 * Hugging Face BPE without byte fallback (byte-level BPE), every single-character piece, so any text
 * stays encodable (the 256 byte characters of byte-level BPE are such pieces). For a unigram model
 * (T5) also every single-character piece, and the pieces with the lowest and the highest score
 * ({@link UnigramTokenizer#scoreAnchors}).
 *
 * <p><b>Unigram models</b> have no merges: the search picks the best-scoring segmentation among all
 * those the pieces allow. A pruned vocabulary allows a subset of them at the same scores, so the
 * original best, when it uses kept pieces only, is still the best, provided no score moves and no new
 * way in appears: the score anchors keep the unknown piece's score (the lowest score − 10) and the
 * user-defined bonus, and the kept single characters keep the unknown piece out of every place a
 * character piece stood (sentencepiece offers it only where no single-character piece starts).
 *
 * <p><b>Merge ancestry</b> ({@link #mergeAncestry}): the pieces the original encoder passes through
 * when it builds a piece from its own characters. BPE merges never cross the boundary of a final
 * token, and inside one the merges happen in the order they would for the piece alone, so every
 * occurrence of a piece in any encoding was built through exactly these pieces. The rule for a
 * pruned vocabulary: <i>a kept piece's merge ancestry is kept too</i>. Then, for text whose original
 * encoding uses only kept ids, each merge the original encoder made is available in the pruned one
 * (same priority), and the pruned encoder's candidates are a subset of the original's, so it picks
 * the same merge at every step: it gives exactly the original ids, mapped through the keep list.
 */
public final class VocabularyConstraints {
    private VocabularyConstraints() {
    }

    /** Ids (sorted) every pruned vocabulary of {@code t} keeps, whatever the counts. */
    public static int[] mandatory(Tokenizer t) {
        BitSet keep = new BitSet(t.vocabSize());
        for (int id = 0; id < t.vocabSize(); id++) if (t.pieceType(id) != PieceType.NORMAL) keep.set(id);
        if (t.bosId() >= 0) keep.set(t.bosId());
        if (t.eosId() >= 0) keep.set(t.eosId());
        switch (t) {
            case Llama2cTokenizer l -> {
                int space = idOf(l, " ");
                if (space >= 0) keep.set(space);
            }
            case SentencePieceTokenizer sp -> {
                int space = idOf(sp, "\u2581");
                if (space >= 0 && sp.addsDummyPrefix()) keep.set(space);
            }
            case UnigramTokenizer u -> {
                for (int id = 0; id < u.modelPieces(); id++) {
                    String p = u.piece(id);
                    if (!p.isEmpty() && p.codePointCount(0, p.length()) == 1) keep.set(id);
                }
                for (int id : u.scoreAnchors()) keep.set(id);
            }
            case HfTokenizer hf -> {
                if (!hf.byteFallback()) {
                    for (int id = 0; id < hf.vocabSize(); id++) {
                        String p = hf.piece(id);
                        if (!p.isEmpty() && p.codePointCount(0, p.length()) == 1) keep.set(id);
                    }
                }
            }
            default -> {
            }
        }
        return keep.stream().toArray();
    }

    /**
     * The ids (sorted, without {@code id}) of the pieces the encoder of {@code t} builds piece
     * {@code id} through: its initial single-character pieces and every intermediate merge. Empty for
     * pieces merges never produce (special tokens, bytes, unreachable pieces).
     */
    public static int[] mergeAncestry(Tokenizer t, int id) {
        if (id < 0 || id >= t.vocabSize()) throw new ShearsException("token id " + id + " is outside the vocabulary of " + t.vocabSize());
        int[] trace = switch (t) {
            case Llama2cTokenizer l -> l.mergeAncestry(id);
            case SentencePieceTokenizer sp -> sp.mergeAncestry(id);
            case HfTokenizer hf -> hf.mergeAncestry(id);
            case UnigramTokenizer u -> null; // no merges: see the class comment
            default -> throw new ShearsException("vocabulary pruning does not know the merges of " + t.getClass().getSimpleName());
        };
        if (trace == null) return new int[0];
        return Arrays.stream(trace).filter(a -> a != id).distinct().sorted().toArray();
    }

    /** The id of the entry whose raw piece is exactly {@code piece}, or -1 (the lowest id when several share it). */
    public static int idOf(Tokenizer t, String piece) {
        if (t instanceof HfTokenizer hf) return hf.idOf(piece);
        for (int id = 0; id < t.vocabSize(); id++) if (t.piece(id).equals(piece)) return id;
        return -1;
    }
}
