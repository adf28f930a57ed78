package dev.shears.format;

import dev.shears.SharedData;
import dev.shears.format.sentencepiece.SentencePieceModelFile;
import dev.shears.prune.KeptVocabulary;
import dev.shears.prune.TokenCounts;
import dev.shears.prune.VocabTarget;
import dev.shears.prune.VocabularyOptions;
import dev.shears.prune.VocabularyPruner;
import dev.shears.progress.Progress;
import dev.shears.tokenizer.ByteLevel;
import dev.shears.tokenizer.Fixtures;
import dev.shears.format.hf.LlamaTokenizerJson;
import dev.shears.tokenizer.PieceType;
import dev.shears.tokenizer.SentencePieceTokenizer;
import dev.shears.tokenizer.Tokenizer;
import dev.shears.tokenizer.UnigramTokenizer;
import dev.shears.tokenizer.VocabularyConstraints;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every tokenizer format pruned on TinyStories, written, and read back: text whose original
 * encoding uses only kept ids encodes to exactly those ids remapped, and decodes as before.
 */
class VocabularyRoundTripTest {
    private static final String STORIES = "eval/tinystories/tinystories_val_head.txt";

    /** What one round trip showed. */
    record Outcome(KeptVocabulary kept, Tokenizer pruned, int keptOnlyLines, int keptOnlyRandom) {
    }

    static Outcome roundTrip(Tokenizer original, Path originalFile, VocabTarget target, Path out) throws IOException {
        Path stories = SharedData.require(STORIES);
        TokenCounts counts = TokenCounts.ofText(original, stories, Progress.SILENT);
        KeptVocabulary kept = VocabularyPruner.select(original, counts, VocabularyOptions.of(target));
        Path file = TokenizerWriter.writePruned(original, originalFile, kept.kept(), out);
        Tokenizer pruned = TokenizerLoader.load(file);
        assertEquals(original.getClass(), pruned.getClass());
        assertEquals(kept.size(), pruned.vocabSize(), "vocabulary size after reload");
        int[] ids = kept.kept();
        for (int i = 0; i < ids.length; i++) {
            assertEquals(original.piece(ids[i]), pruned.piece(i), "piece of new id " + i);
            assertEquals(original.pieceType(ids[i]), pruned.pieceType(i), "type of new id " + i);
        }
        assertEquals(kept.newId(original.bosId()), pruned.bosId());
        assertEquals(kept.newId(original.eosId()), pruned.eosId());
        assertEquals(original.addsBos(), pruned.addsBos());
        for (int id : ids) {
            for (int a : VocabularyConstraints.mergeAncestry(original, id)) assertTrue(kept.newId(a) >= 0, "ancestor " + a + " of kept " + id);
        }

        // lines, their sentences and their words: small vocabularies leave few whole lines kept-only
        List<String> lines = Files.readAllLines(stories).stream().filter(l -> !l.isBlank()).limit(1500)
                .flatMap(l -> Stream.concat(Stream.of(l), Stream.concat(Arrays.stream(l.split("(?<=[.!?])\\s+")), Arrays.stream(l.split("\\s+")))))
                .distinct().toList();
        boolean bytesDecode = decodesBytePieces(original);
        int keptOnly = 0;
        for (String line : lines) {
            int[] before = original.encode(line);
            int[] after = pruned.encode(line);
            if (kept.keepsAll(before)) {
                keptOnly++;
                assertArrayEquals(kept.remap(before), after, () -> "kept-only line: " + line);
                assertEquals(original.decode(before), pruned.decode(after), line);
            }
            if (bytesDecode && original.decode(before).equals(line)) assertEquals(line, pruned.decode(after), "lossless before, lossless after: " + line);
        }
        // texts glued from random kept pieces: many more merge situations than the frequent lines
        Random random = new Random(11);
        int keptOnlyRandom = 0;
        for (int trial = 0; trial < 3000; trial++) {
            int[] glued = new int[1 + random.nextInt(6)];
            for (int k = 0; k < glued.length; k++) glued[k] = ids[random.nextInt(ids.length)];
            String text = original.decode(glued);
            int[] before = original.encode(text);
            if (!kept.keepsAll(before)) continue;
            keptOnlyRandom++;
            int[] after = pruned.encode(text);
            assertArrayEquals(kept.remap(before), after, () -> "kept-only text: '" + text + "'");
            assertEquals(original.decode(before), pruned.decode(after), text);
        }
        System.out.printf("%s pruned to %s: %s; %d/%d kept-only lines/sentences/words, %d kept-only random texts%n", original.getClass().getSimpleName(), target,
                kept, keptOnly, lines.size(), keptOnlyRandom);
        assertTrue(keptOnly > 50, "too few kept-only lines, sentences or words to test anything: " + keptOnly);
        assertTrue(keptOnlyRandom > 300, "too few kept-only random texts: " + keptOnlyRandom);
        return new Outcome(kept, pruned, keptOnly, keptOnlyRandom);
    }

    /** Whether {@code <0xNN>} pieces decode to their bytes (the test converter's Metaspace layout has no ByteFallback decoder). */
    private static boolean decodesBytePieces(Tokenizer t) {
        int a = VocabularyConstraints.idOf(t, "<0x41>");
        return a < 0 || t.pieceType(a) != PieceType.BYTE || t.decode(new int[] {a}).equals("A");
    }

    @Test
    void llama2cTokenizerBin(@TempDir Path dir) throws IOException {
        Path file = SharedData.require("models/stories260K/tok512.bin");
        Tokenizer original = TokenizerLoader.load(file);
        Outcome half = roundTrip(original, file, VocabTarget.normalFraction(0.5), dir.resolve("half"));
        assertEquals(259 + Math.round(0.5 * 253), half.kept().size());
        for (int id = 0; id < 259; id++) assertEquals(id, half.kept().kept()[id], "unknown, BOS, EOS and bytes keep their ids");
        roundTrip(original, file, VocabTarget.size(300), dir.resolve("300"));
    }

    @Test
    void sentencePieceModel(@TempDir Path dir) throws IOException {
        Path file = SharedData.require("tokenizers/llama2/tokenizer.model");
        Tokenizer original = TokenizerLoader.load(file);
        Outcome small = roundTrip(original, file, VocabTarget.size(2000), dir);
        assertTrue(small.kept().byAncestry() > 0, "llama2's pieces need their merge ancestry");
    }

    @Test
    void hfSentencePieceStyleJson(@TempDir Path dir) throws IOException {
        SentencePieceTokenizer sp = SentencePieceModelFile.read(SharedData.require("tokenizers/llama2/tokenizer.model"));
        for (boolean metaspace : new boolean[] {false, true}) {
            Path file = LlamaTokenizerJson.write(sp, LlamaTokenizerJson.merges(sp), dir.resolve("in-" + metaspace), metaspace);
            Tokenizer original = TokenizerLoader.load(file);
            Outcome o = roundTrip(original, file, VocabTarget.size(2000), dir.resolve("out-" + metaspace));
            assertTrue(Files.isRegularFile(dir.resolve("out-" + metaspace).resolve("tokenizer_config.json")));
            assertArrayEquals(new int[] {o.kept().newId(1)}, o.pruned().encode("<s>"), "added tokens stay literal");
        }
    }

    /**
     * T5's unigram vocabulary, from {@code spiece.model} (+ its tokenizer_config.json) and from tokenizer.json: no merges,
     * so nothing is kept for ancestry, but every single character and both score anchors are, and the 100 sentinels
     * stay the last ids, {@code <extra_id_0>} the very last.
     */
    @Test
    void t5Unigram(@TempDir Path dir) throws IOException {
        for (String name : new String[] {"spiece.model", "tokenizer.json"}) {
            Path file = SharedData.require("tokenizers/t5/" + name);
            Tokenizer original = TokenizerLoader.load(file);
            Outcome o = roundTrip(original, file, VocabTarget.size(4000), dir.resolve(name));
            assertEquals(0, o.kept().byAncestry(), name + ": unigram pieces have no merge ancestry");
            Tokenizer pruned = o.pruned();
            assertTrue(pruned.addsEos(), name + ": T5 still appends </s>");
            int last = pruned.vocabSize() - 1;
            assertArrayEquals(new int[] {last}, pruned.encode("<extra_id_0>"), name);
            assertArrayEquals(new int[] {last - 99}, pruned.encode("<extra_id_99>"), name);
            assertEquals(o.kept().newId(original.encode("<extra_id_7>")[0]), pruned.encode("<extra_id_7>")[0], name);
            UnigramTokenizer u = (UnigramTokenizer) original;
            for (int anchor : u.scoreAnchors()) assertTrue(o.kept().newId(anchor) >= 0, name + ": score anchor " + anchor + " kept");
        }
    }

    /** A pruned spiece.model numbers its sentinels after its pieces from the tokenizer_config.json: dropping one is refused in one line. */
    @Test
    void aSpieceModelKeepsEverySentinel(@TempDir Path dir) {
        Path file = SharedData.require("tokenizers/t5/spiece.model");
        Tokenizer original = TokenizerLoader.load(file);
        int[] kept = IntStream.range(0, original.vocabSize() - 1).toArray();
        dev.shears.ShearsException e = org.junit.jupiter.api.Assertions.assertThrows(dev.shears.ShearsException.class,
                () -> TokenizerWriter.writePruned(original, file, kept, dir));
        assertTrue(e.getMessage().contains("keeps every one of the 100 sentinels"), e.getMessage());
    }

    @Test
    void hfByteLevelJson(@TempDir Path dir) throws IOException {
        for (String name : new String[] {"gpt2", "llama3", "qwen2"}) {
            Path file = Fixtures.path("bytelevel/" + name + "/tokenizer.json");
            Tokenizer original = TokenizerLoader.load(file);
            Outcome o = roundTrip(original, file, VocabTarget.normalFraction(0.5), dir.resolve(name));
            // any text stays encodable: all 256 byte characters are kept
            String odd = "Ünïcödé 中文 😀 \t\r\n <|im_start|>";
            assertEquals(original.decode(original.encode(odd)), o.pruned().decode(o.pruned().encode(odd)), name);
            for (int b = 0; b < 256; b++) {
                int id = VocabularyConstraints.idOf(original, String.valueOf(ByteLevel.charOf(b)));
                assertTrue(id >= 0 && o.kept().newId(id) >= 0, name + ": byte " + b);
            }
        }
    }

    /** The rule is needed: drop one ancestor of a kept piece and that piece's own text no longer encodes to it. */
    @Test
    void droppingAnAncestorBreaksTheKeptPiece(@TempDir Path dir) throws IOException {
        Path file = SharedData.require("models/stories260K/tok512.bin");
        Tokenizer original = TokenizerLoader.load(file);
        int piece = -1;
        int ancestor = -1;
        int[] mandatory = VocabularyConstraints.mandatory(original);
        for (int id = 259; id < original.vocabSize() && piece < 0; id++) {
            String p = original.piece(id);
            if (!p.startsWith(" ") || !Arrays.equals(new int[] {id}, original.encode(p.substring(1)))) continue;
            for (int a : VocabularyConstraints.mergeAncestry(original, id)) {
                if (Arrays.binarySearch(mandatory, a) < 0) {
                    piece = id;
                    ancestor = a;
                    break;
                }
            }
        }
        assertTrue(piece >= 0);
        int dropped = ancestor;
        int[] kept = IntStream.range(0, original.vocabSize()).filter(id -> id != dropped).toArray();
        Tokenizer pruned = TokenizerLoader.load(TokenizerWriter.writePruned(original, file, kept, dir));
        String text = original.piece(piece).substring(1); // the dummy-prefix space comes back in encode
        int[] remapped = Arrays.stream(original.encode(text)).map(id -> Arrays.binarySearch(kept, id)).toArray();
        assertNotEquals(Arrays.toString(remapped), Arrays.toString(pruned.encode(text)), "dropping '" + original.piece(ancestor) + "' should change '" + text + "'");
        assertEquals(text, pruned.decode(pruned.encode(text)), "still lossless");
    }
}
