package dev.shears.prune;

import dev.shears.SharedData;
import dev.shears.ShearsException;
import dev.shears.data.DataPreparer;
import dev.shears.data.PrepareOptions;
import dev.shears.data.Split;
import dev.shears.data.TokenDataset;
import dev.shears.format.TokenizerLoader;
import dev.shears.progress.Progress;
import dev.shears.tokenizer.PieceType;
import dev.shears.tokenizer.Tokenizer;
import dev.shears.tokenizer.VocabularyConstraints;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Choosing the kept vocabulary: mandatory entries, frequency order, user-listed tokens, and clear errors. */
class VocabularyPrunerTest {
    private static Tokenizer tok512() {
        return TokenizerLoader.load(SharedData.require("models/stories260K/tok512.bin"));
    }

    private static Path resource(String name) {
        try {
            return Path.of(VocabularyPrunerTest.class.getResource(name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static TokenCounts stories(Tokenizer t) {
        return TokenCounts.ofText(t, SharedData.require("eval/tinystories/tinystories_val_head.txt"), Progress.SILENT);
    }

    @Test
    void specialAndByteTokensAlwaysStayEvenAtTheSmallestTarget() {
        Tokenizer t = tok512();
        TokenCounts counts = stories(t);
        int[] mandatory = VocabularyConstraints.mandatory(t);
        assertEquals(260, mandatory.length, "unknown, BOS, EOS, 256 bytes and the dummy-prefix space");
        KeptVocabulary smallest = VocabularyPruner.select(t, counts, VocabularyOptions.of(VocabTarget.size(mandatory.length)));
        assertEquals(mandatory.length, smallest.size());
        for (int id = 0; id < t.vocabSize(); id++) {
            if (t.pieceType(id) != PieceType.NORMAL) assertTrue(smallest.newId(id) >= 0, "non-normal id " + id);
        }
        assertEquals(1, smallest.newId(t.bosId()));
        assertEquals(2, smallest.newId(t.eosId()));
        ShearsException tooSmall = assertThrows(ShearsException.class,
                () -> VocabularyPruner.select(t, counts, VocabularyOptions.of(VocabTarget.size(mandatory.length - 1))));
        assertTrue(tooSmall.getMessage().contains("ask for at least 260"), tooSmall.getMessage());
        assertFalse(tooSmall.getMessage().contains("\n"));
        ShearsException half = assertThrows(ShearsException.class, () -> VocabularyPruner.select(t, counts, VocabularyOptions.of(VocabTarget.fraction(0.5)).withCharacters(CharacterPolicy.SEEN)));
        assertTrue(half.getMessage().contains("256 ids") && half.getMessage().contains("characters seen"), half.getMessage());
        // on request every character seen in the corpus stays a piece (no byte fallback on seen text)
        KeptVocabulary seen = VocabularyPruner.select(t, counts, VocabularyOptions.of(VocabTarget.size(400)).withCharacters(CharacterPolicy.SEEN));
        for (int id = 0; id < t.vocabSize(); id++) {
            if (t.piece(id).length() == 1 && counts.count(id) > 0) assertTrue(seen.newId(id) >= 0, "seen character '" + t.piece(id) + "'");
        }
        assertTrue(seen.mandatory() > 260, seen.toString());
        assertThrows(ShearsException.class, () -> VocabularyPruner.select(t, counts, VocabularyOptions.of(VocabTarget.size(513))));
        assertThrows(ShearsException.class, () -> VocabTarget.fraction(1.5));
        assertThrows(ShearsException.class, () -> VocabTarget.size(0));
        assertThrows(ShearsException.class, () -> VocabularyPruner.select(t, new TokenCounts(100), VocabularyOptions.of(VocabTarget.size(300))));
    }

    @Test
    void keepsTheMostFrequentPiecesWithTheirAncestryAndUserListedOnes() {
        Tokenizer t = tok512();
        TokenCounts counts = stories(t);
        KeptVocabulary all = VocabularyPruner.select(t, counts, VocabularyOptions.of(VocabTarget.size(512)));
        assertEquals(512, all.size());
        assertEquals(1.0, all.coverage());
        KeptVocabulary kept = VocabularyPruner.select(t, counts, VocabularyOptions.of(VocabTarget.normalFraction(0.5)));
        assertEquals(386, kept.size());
        assertEquals(kept.size(), kept.mandatory() + kept.byFrequency() + kept.byAncestry());
        // the most frequent normal piece is in, and every kept piece's ancestry is in
        int best = -1;
        for (int id = 0; id < t.vocabSize(); id++) if (t.pieceType(id) == PieceType.NORMAL && (best < 0 || counts.count(id) > counts.count(best))) best = id;
        assertTrue(kept.newId(best) >= 0);
        for (int id : kept.kept()) for (int a : VocabularyConstraints.mergeAncestry(t, id)) assertTrue(kept.newId(a) >= 0);
        // a dropped piece was counted no more often than the rarest piece chosen for its count... unless its ancestry did not fit
        assertTrue(kept.coverage() > 0.85, kept.toString());
        int rare = -1;
        for (int id = 259; id < t.vocabSize(); id++) if (kept.newId(id) < 0) rare = id;
        String piece = t.piece(rare);
        KeptVocabulary withUser = VocabularyPruner.select(t, counts, VocabularyOptions.of(VocabTarget.normalFraction(0.5)).keepingPieces(piece).keepingIds(rare - 1));
        assertTrue(withUser.newId(rare) >= 0 && withUser.newId(rare - 1) >= 0);
        for (int a : VocabularyConstraints.mergeAncestry(t, rare)) assertTrue(withUser.newId(a) >= 0, "user-listed pieces bring their ancestry");
        assertEquals(386, withUser.size());
        ShearsException unknown = assertThrows(ShearsException.class,
                () -> VocabularyPruner.select(t, counts, VocabularyOptions.of(VocabTarget.size(400)).keepingPieces("no such piece")));
        assertTrue(unknown.getMessage().contains("no such piece"));
        assertThrows(ShearsException.class, () -> VocabularyPruner.select(t, counts, VocabularyOptions.of(VocabTarget.size(400)).keepingIds(512)));
        assertEquals(Arrays.toString(kept.kept()), Arrays.toString(VocabularyPruner.select(t, counts, VocabularyOptions.of(VocabTarget.normalFraction(0.5))).kept()), "deterministic");
    }

    @Test
    void byteLevelKeepsAll256ByteTokens() {
        Tokenizer t = TokenizerLoader.load(resource("/tokenizer/bytelevel/gpt2/tokenizer.json"));
        int[] mandatory = VocabularyConstraints.mandatory(t);
        int singles = 0;
        for (int id : mandatory) if (t.piece(id).length() == 1) singles++;
        assertEquals(256, singles);
        KeptVocabulary kept = VocabularyPruner.select(t, stories(t), VocabularyOptions.of(VocabTarget.size(mandatory.length)));
        assertEquals(Arrays.toString(mandatory), Arrays.toString(kept.kept()));
        String text = "Any text at all: ünïcödé, 中文, 😀.";
        assertEquals(t.decode(t.encode(text)), text);
    }

    @Test
    void countsAPreparedTokenFolder(@TempDir Path dir) throws IOException {
        Tokenizer t = tok512();
        Path text = dir.resolve("stories.txt");
        Files.writeString(text, Files.readString(SharedData.require("eval/tinystories/tinystories_val_head.txt")).substring(0, 100_000));
        TokenDataset data = DataPreparer.prepare(t, "tok512.bin", List.of(text), dir.resolve("prepared"), PrepareOptions.DEFAULT, Progress.SILENT);
        TokenCounts counts = TokenCounts.ofDataset(data, Split.TRAIN, t.vocabSize(), Progress.SILENT);
        assertEquals(data.tokens(Split.TRAIN), counts.total());
        assertEquals(counts.total(), Arrays.stream(counts.counts()).sum());
        assertTrue(counts.count(t.eosId()) > 0, "documents end with EOS in a prepared folder");
        TokenCounts fromText = TokenCounts.ofText(t, text, Progress.SILENT);
        int agree = 0;
        for (int id = 259; id < t.vocabSize(); id++) if ((counts.count(id) > 0) == (fromText.count(id) > 0)) agree++;
        assertTrue(agree > 240, "the same pieces occur either way: " + agree);
        assertThrows(ShearsException.class, () -> TokenCounts.ofDataset(data, Split.TRAIN, 100, Progress.SILENT));
    }
}
