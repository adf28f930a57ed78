package dev.shears.prune;

import dev.shears.ShearsException;

import java.util.ArrayList;
import java.util.List;

/**
 * What vocabulary pruning keeps besides the mandatory entries.
 *
 * @param target     how many ids to keep
 * @param characters what happens to single-character pieces ({@link CharacterPolicy#BY_FREQUENCY} by default)
 * @param keepPieces raw vocabulary entries to keep whatever their count (exact piece text, e.g. {@code "▁Hello"} or {@code "<|im_start|>"})
 * @param keepIds    ids to keep whatever their count
 */
public record VocabularyOptions(VocabTarget target, CharacterPolicy characters, List<String> keepPieces, List<Integer> keepIds) {
    public VocabularyOptions {
        if (target == null) throw new ShearsException("vocabulary pruning needs a target size");
        if (characters == null) throw new ShearsException("vocabulary pruning needs a character policy");
        keepPieces = List.copyOf(keepPieces);
        keepIds = List.copyOf(keepIds);
    }

    public static VocabularyOptions of(VocabTarget target) {
        return new VocabularyOptions(target, CharacterPolicy.BY_FREQUENCY, List.of(), List.of());
    }

    public VocabularyOptions withCharacters(CharacterPolicy policy) {
        return new VocabularyOptions(target, policy, keepPieces, keepIds);
    }

    public VocabularyOptions keepingPieces(String... pieces) {
        List<String> all = new ArrayList<>(keepPieces);
        all.addAll(List.of(pieces));
        return new VocabularyOptions(target, characters, all, keepIds);
    }

    public VocabularyOptions keepingIds(int... ids) {
        List<Integer> all = new ArrayList<>(keepIds);
        for (int id : ids) all.add(id);
        return new VocabularyOptions(target, characters, keepPieces, all);
    }
}
