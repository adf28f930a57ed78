package dev.shears.prune;

import dev.shears.SharedData;
import dev.shears.format.TokenizerLoader;
import dev.shears.format.TokenizerWriter;
import dev.shears.format.hf.HfModel;
import dev.shears.model.Activations;
import dev.shears.model.MaskSet;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.model.Transformer;
import dev.shears.progress.Progress;
import dev.shears.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real stories260K model with its vocabulary pruned: on text the pruned tokenizer encodes to
 * the same tokens, its logits are the original model's logits at the kept ids (the softmax
 * normaliser changes, the raw logits do not), and the pruned model and tokenizer save and reload.
 */
class VocabularyModelTest {
    private static final float TOLERANCE = 1e-5f;

    static float[] logits(Model model, int[] tokens) {
        return Transformer.forward(model, tokens, 1, tokens.length, Activations.forInference(model.config(), 1, tokens.length), MaskSet.NONE).clone();
    }

    @Test
    void keptLogitsAreTheOriginalLogitsAndThePrunedModelRoundTrips(@TempDir Path dir) throws IOException {
        Path tokFile = SharedData.require("models/stories260K/tok512.bin");
        Model original = HfModel.read(SharedData.require("models/stories260K/hf"));
        Tokenizer tok = TokenizerLoader.load(tokFile);
        Path stories = SharedData.require("eval/tinystories/tinystories_val_head.txt");
        KeptVocabulary kept = VocabularyPruner.select(tok, TokenCounts.ofText(tok, stories, Progress.SILENT), VocabularyOptions.of(VocabTarget.normalFraction(0.5)));

        Model pruned = VocabularyPruner.prune(original, kept);
        ModelConfig c = pruned.config();
        assertEquals(kept.size(), c.vocabSize());
        assertEquals(kept.newId(original.config().bosId()), c.bosId());
        assertEquals(kept.newId(original.config().eosId()), c.eosId());
        assertEquals(original.config().tiedEmbeddings(), c.tiedEmbeddings());
        assertEquals(original.config().parameterCount() - (long) (512 - kept.size()) * c.dim(), c.parameterCount(), "tied: one table of rows fewer");

        HfModel.write(pruned, dir);
        TokenizerWriter.writePruned(tok, tokFile, kept.kept(), dir);
        Model reloaded = HfModel.read(dir);
        Tokenizer prunedTok = TokenizerLoader.load(dir);
        assertEquals(c, reloaded.config());
        assertEquals(kept.size(), prunedTok.vocabSize());

        List<int[]> sequences = new ArrayList<>();
        for (String line : Files.readAllLines(stories)) {
            for (String sentence : line.split("(?<=[.!?])\\s+")) {
                int[] ids = tok.encode(sentence);
                if (ids.length < 6 || !kept.keepsAll(ids)) continue;
                int[] newIds = prunedTok.encode(sentence);
                assertArrayEquals(kept.remap(ids), newIds, sentence);
                sequences.add(ids);
            }
            if (sequences.size() >= 20) break;
        }
        assertEquals(20, sequences.size());
        int[] vocab = kept.kept();
        for (int[] ids : sequences) {
            int[] input = new int[ids.length + 1];
            input[0] = tok.bosId();
            System.arraycopy(ids, 0, input, 1, ids.length);
            int[] newInput = kept.remap(input);
            float[] before = logits(original, input);
            float[] after = logits(pruned, newInput);
            for (int t = 0; t < input.length; t++) {
                for (int j = 0; j < vocab.length; j++) {
                    float e = before[t * 512 + vocab[j]];
                    float a = after[t * vocab.length + j];
                    assertTrue(Math.abs(a - e) <= TOLERANCE * (1 + Math.abs(e)), "position " + t + ", new id " + j + " (old " + vocab[j] + "): " + a + " vs " + e);
                }
            }
            assertArrayEquals(after, logits(reloaded, newInput), "reloaded model");
        }
    }

    @Test
    void keepAllVocabularyIsTheIdentity() {
        Model original = HfModel.read(SharedData.require("models/stories260K/hf"));
        KeptVocabulary all = new KeptVocabulary(IndexSets.range(512), 512, 0, 0, 0, 0);
        Model same = VocabularyPruner.prune(original, all);
        int[] tokens = {1, 300, 400, 500, 42};
        assertEquals(Arrays.toString(logits(original, tokens)), Arrays.toString(logits(same, tokens)));
    }
}
