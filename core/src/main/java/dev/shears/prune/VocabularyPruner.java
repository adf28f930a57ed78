package dev.shears.prune;

import dev.shears.ShearsException;
import dev.shears.model.Model;
import dev.shears.tokenizer.PieceType;
import dev.shears.tokenizer.Tokenizer;
import dev.shears.tokenizer.VocabularyConstraints;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Vocabulary pruning (OpenBA-V2, METHODS.md §3): keep the most frequent tokens of the target corpus
 * up to a size, plus every entry a sound tokenizer needs; then slice the embedding and LM-head rows
 * ({@link #prune}) and write a matching tokenizer ({@link dev.shears.format.TokenizerWriter}).
 *
 * <p>The rule (see {@link VocabularyConstraints}): the mandatory entries stay (and, on request,
 * every single-character piece seen in the corpus: {@link CharacterPolicy}), and every kept
 * piece's merge ancestry stays with it. Pieces are taken by count (descending, then lower id),
 * each together with the part of its ancestry not kept yet; a piece whose ancestry would overshoot
 * the target is skipped for the next one. Text whose original encoding uses only kept ids then
 * encodes to exactly those ids, remapped, and decodes as before.
 */
public final class VocabularyPruner {
    private VocabularyPruner() {
    }

    public static KeptVocabulary select(Tokenizer tokenizer, TokenCounts counts, VocabularyOptions options) {
        int v = tokenizer.vocabSize();
        if (counts.vocabSize() != v) throw new ShearsException("token counts are for " + counts.vocabSize() + " ids, the tokenizer has " + v);
        boolean[] kept = new boolean[v];
        int[] size = {0};
        for (int id : VocabularyConstraints.mandatory(tokenizer)) keepWithAncestry(tokenizer, id, kept, size);
        for (String piece : options.keepPieces()) {
            int id = VocabularyConstraints.idOf(tokenizer, piece);
            if (id < 0) throw new ShearsException("cannot keep '" + piece + "': no vocabulary entry is exactly that piece");
            keepWithAncestry(tokenizer, id, kept, size);
        }
        for (int id : options.keepIds()) {
            if (id < 0 || id >= v) throw new ShearsException("cannot keep token id " + id + ": the vocabulary has ids 0.." + (v - 1));
            keepWithAncestry(tokenizer, id, kept, size);
        }
        if (options.characters() == CharacterPolicy.SEEN) {
            for (int id = 0; id < v; id++) {
                String p = tokenizer.piece(id);
                if (counts.count(id) > 0 && !p.isEmpty() && p.codePointCount(0, p.length()) == 1) keepWithAncestry(tokenizer, id, kept, size);
            }
        }
        int mandatory = size[0];
        int normal = (int) IntStream.range(0, v).filter(id -> tokenizer.pieceType(id) == PieceType.NORMAL).count();
        int target = options.target().resolve(v, normal);
        if (target > v) throw new ShearsException("vocabulary target " + options.target() + " (" + target + " ids) is larger than the vocabulary of " + v);
        if (target < mandatory) {
            throw new ShearsException("vocabulary target " + options.target() + " (" + target + " ids) is smaller than the " + mandatory
                    + " ids that must stay (special, byte and user-listed tokens"
                    + (options.characters() == CharacterPolicy.SEEN ? ", characters seen in the corpus" : "") + " with their merge ancestry); ask for at least " + mandatory);
        }
        List<Integer> candidates = new ArrayList<>();
        for (int id = 0; id < v; id++) if (!kept[id]) candidates.add(id);
        candidates.sort(Comparator.comparingLong((Integer id) -> -counts.count(id)).thenComparingInt(id -> id));
        int byFrequency = 0;
        for (int id : candidates) {
            if (size[0] == target) break;
            if (kept[id]) continue;
            List<Integer> missing = new ArrayList<>();
            missing.add(id);
            for (int a : VocabularyConstraints.mergeAncestry(tokenizer, id)) if (!kept[a]) missing.add(a);
            if (size[0] + missing.size() > target) continue;
            for (int m : missing) kept[m] = true;
            size[0] += missing.size();
            byFrequency++;
        }
        int[] ids = IntStream.range(0, v).filter(id -> kept[id]).toArray();
        long covered = 0;
        for (int id : ids) covered += counts.count(id);
        return new KeptVocabulary(ids, mandatory, byFrequency, ids.length - mandatory - byFrequency, covered, counts.total());
    }

    /** The model with only the kept embedding and LM-head rows (and BOS/EOS ids remapped). */
    public static Model prune(Model model, KeptVocabulary vocabulary) {
        return Slicer.slice(model, vocabulary.plan(model.config())).dense();
    }

    private static void keepWithAncestry(Tokenizer t, int id, boolean[] kept, int[] size) {
        if (kept[id]) return;
        kept[id] = true;
        size[0]++;
        for (int a : VocabularyConstraints.mergeAncestry(t, id)) keepWithAncestry(t, a, kept, size);
    }
}
