package dev.shears.prune;

import dev.shears.SharedData;
import dev.shears.eval.Perplexity;
import dev.shears.eval.PerplexityResult;
import dev.shears.format.TokenizerLoader;
import dev.shears.format.TokenizerWriter;
import dev.shears.format.hf.HfModel;
import dev.shears.model.Model;
import dev.shears.progress.Progress;
import dev.shears.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The numbers in docs/pruning.md: stories260K's TinyStories perplexity before and after vocabulary
 * pruning. Counts come from the first 3/4 of the file, perplexity from a held-out part of the rest.
 * Two comparisons: (1) the whole held-out text, which the pruned tokenizer encodes into more
 * tokens where pieces were dropped, compared per byte and per word (tokenization-independent);
 * (2) the held-out sentences whose original encoding uses only kept ids, which both tokenizers
 * encode to the same tokens, compared per token. (The CharacterPolicy.SEEN numbers in the docs come
 * from the same loop over CharacterPolicy.values().)
 */
class VocabularyPerplexityTest {
    private static final int CONTEXT = 512;

    @Test
    void storiesPerplexityBeforeAndAfter(@TempDir Path dir) throws IOException {
        Path tokFile = SharedData.require("models/stories260K/tok512.bin");
        Model model = HfModel.read(SharedData.require("models/stories260K/hf"));
        Tokenizer tok = TokenizerLoader.load(tokFile);
        String all = Files.readString(SharedData.require("eval/tinystories/tinystories_val_head.txt"));
        int split = all.indexOf("\n\n", all.length() * 3 / 4) + 2;
        Path countText = dir.resolve("count.txt");
        Files.writeString(countText, all.substring(0, split));
        String heldOut = all.substring(split, all.indexOf("\n\n", split + 40_000));
        TokenCounts counts = TokenCounts.ofText(tok, countText, Progress.SILENT);

        PerplexityResult base = Perplexity.evaluate(model, tok, heldOut, CONTEXT, Progress.SILENT);
        System.out.printf("stories260K, TinyStories held-out (%d bytes): vocab 512: %s%n", heldOut.length(), line(base));
        for (CharacterPolicy characters : new CharacterPolicy[] {CharacterPolicy.BY_FREQUENCY}) for (double fraction : new double[] {0.75, 0.5}) {
            KeptVocabulary kept = VocabularyPruner.select(tok, counts, VocabularyOptions.of(VocabTarget.normalFraction(fraction)).withCharacters(characters));
            Model pruned = VocabularyPruner.prune(model, kept);
            Path out = dir.resolve("pruned-" + characters + fraction);
            Tokenizer prunedTok = TokenizerLoader.load(TokenizerWriter.writePruned(tok, tokFile, kept.kept(), out));
            PerplexityResult whole = Perplexity.evaluate(pruned, prunedTok, heldOut, CONTEXT, Progress.SILENT);

            // the kept-only sentences, each after "\n " so it encodes as it does alone (newline is a byte token, no piece spans it)
            List<String> sentences = new ArrayList<>();
            for (String s : heldOut.split("(?<=[.!?])\\s+")) if (!s.isBlank() && kept.keepsAll(tok.encode(s.strip()))) sentences.add(s.strip());
            String keptOnly = String.join("\n ", sentences);
            assertTrue(kept.keepsAll(tok.encode(keptOnly)));
            PerplexityResult keptBefore = Perplexity.evaluate(model, tok, keptOnly, CONTEXT, Progress.SILENT);
            PerplexityResult keptAfter = Perplexity.evaluate(pruned, prunedTok, keptOnly, CONTEXT, Progress.SILENT);
            assertEquals(keptBefore.tokens(), keptAfter.tokens(), "same tokens");
            assertTrue(keptAfter.nll() <= keptBefore.nll() + 1e-6, "a smaller softmax over the same logits can only raise the kept tokens' probabilities");
            System.out.printf("  %s, characters %s -> vocab %d (coverage of counted tokens %.3f)%n    whole held-out text: %s%n    kept-only sentences (%d, %d bytes): before ppl %.4f, after ppl %.4f%n",
                    VocabTarget.normalFraction(fraction), characters, kept.size(), kept.coverage(), line(whole), sentences.size(), keptOnly.length(), keptBefore.ppl(), keptAfter.ppl());
        }
    }

    private static String line(PerplexityResult r) {
        return String.format("%d tokens, token ppl %.4f, word ppl %.4f, bits/byte %.4f", r.tokens(), r.ppl(), r.wordPpl(), r.bitsPerByte());
    }
}
