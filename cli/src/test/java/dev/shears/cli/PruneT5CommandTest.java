package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shears.SharedData;
import dev.shears.format.TokenizerLoader;
import dev.shears.seq2seq.T5Config;
import dev.shears.seq2seq.T5Model;
import dev.shears.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static dev.shears.cli.CliTest.shears;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code shears prune} of a T5 folder: every axis in one shot, a loadable folder with its tokenizer (pruned with --vocab), one-line refusals. */
class PruneT5CommandTest {
    private static final int[] SOURCE = {5, 9, 1, 3, 7, 2};
    private static final int[] TARGET = {4, 8, 6, 1};

    @Test
    void prunesEveryAxisIntoAFolderThatLoadsAndScores(@TempDir Path tmp) throws IOException {
        Path t5 = SharedData.require("models/t5-tiny-random");
        Path out = tmp.resolve("small");
        CliTest.Run r = shears("prune", t5.toString(), "--heads", "0.5", "--ffn", "0.5", "--hidden", "0.25", "--enc-layers", "3", "--dec-layers", "4",
                "--out", out.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = r.json();
        assertEquals("magnitude", j.path("widthCriterion").asText());
        assertTrue(j.path("paramsAfter").asLong() < j.path("paramsBefore").asLong(), r.out());
        assertEquals(24, j.path("hiddenKept").asInt());
        assertEquals(5, j.path("keptPerLayer").path("decoder").size());

        T5Model child = T5Model.load(out);
        T5Config c = child.config();
        assertEquals(24, c.dim());
        assertEquals(3, c.encoder().size());
        assertEquals(4, c.decoder().size());
        assertEquals(2, c.decoder().getFirst().numHeads());
        assertEquals(2, c.decoder().getFirst().crossHeads());
        assertEquals(19, c.encoder().getFirst().ffnDim());
        assertEquals(j.path("paramsAfter").asLong(), child.parameterCount());
        for (float v : child.logits(SOURCE, TARGET)) assertTrue(Float.isFinite(v));
        for (String name : new String[]{"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "pruning-plan.json"}) {
            assertTrue(Files.isRegularFile(out.resolve(name)), name);
        }
        assertEquals(Files.readString(t5.resolve("tokenizer.json")), Files.readString(out.resolve("tokenizer.json")), "the tokenizer is copied as it is");
        JsonNode plan = Json.MAPPER.readTree(Files.readString(out.resolve("pruning-plan.json")));
        assertEquals(24, plan.path("hidden").size());
        assertEquals(1302, plan.path("vocab").size());
        assertFalse(plan.path("encoder").path(2).path("kept").asBoolean(), "every-k drops encoder layer 2 of 5 when keeping 3");

        // activation on calibration text, the default criterion when --calibration is given
        Path act = tmp.resolve("act");
        CliTest.Run ra = shears("prune", t5.toString(), "--heads", "0.25", "--ffn", "0.5", "--dec-layers", "3", "--calibration",
                SharedData.require("eval/tinystories/tinystories_val_head.txt").toString(), "--samples", "3", "--seq-len", "16", "--out", act.toString(), "--json");
        assertEquals(0, ra.code(), ra.err());
        assertEquals("activation", ra.json().path("widthCriterion").asText());
        assertEquals("block-influence", ra.json().path("layerCriterion").asText());
        assertEquals(3, T5Model.load(act).config().decoder().size());
        assertEquals(3, ra.json().path("perplexityWindows").asInt());
        double before = ra.json().path("calibrationPerplexityBefore").asDouble(), after = ra.json().path("calibrationPerplexityAfter").asDouble();
        assertTrue(before > 1 && after > 1 && before != after, before + " -> " + after);
        assertEquals(3, T5Model.load(act).config().encoder().getFirst().numHeads());

        // issue 16: first-order Taylor for widths, Gromov et al.'s angular distance for layers: a contiguous block goes
        Path taylor = tmp.resolve("taylor");
        CliTest.Run rt = shears("prune", t5.toString(), "--heads", "0.25", "--ffn", "0.5", "--hidden", "0.25", "--enc-layers", "4", "--dec-layers", "3",
                "--importance", "taylor", "--taylor", "gate-mix", "--layer-importance", "angular", "--angular-tokens", "all", "--calibration",
                SharedData.require("eval/tinystories/tinystories_val_head.txt").toString(), "--samples", "3", "--seq-len", "16", "--out", taylor.toString(), "--json");
        assertEquals(0, rt.code(), rt.err());
        assertEquals("taylor", rt.json().path("widthCriterion").asText());
        assertEquals("angular", rt.json().path("layerCriterion").asText());
        assertEquals(3, T5Model.load(taylor).config().decoder().size());
        assertEquals(24, T5Model.load(taylor).config().dim());
        JsonNode taylorPlan = Json.MAPPER.readTree(Files.readString(taylor.resolve("pruning-plan.json")));
        StringBuilder decoderKept = new StringBuilder();
        for (JsonNode layer : taylorPlan.path("decoder")) decoderKept.append(layer.path("kept").asBoolean() ? 'k' : '-');
        assertTrue(decoderKept.toString().matches("k*--k*"), "angular drops two consecutive decoder layers: " + decoderKept);

        // seeded random: the same seed gives the same child, another seed another
        Path a = tmp.resolve("a"), b = tmp.resolve("b"), c2 = tmp.resolve("c");
        for (String[] run : new String[][]{{a.toString(), "1"}, {b.toString(), "1"}, {c2.toString(), "2"}}) {
            CliTest.Run rr = shears("prune", t5.toString(), "--ffn", "0.5", "--importance", "random", "--seed", run[1], "--out", run[0]);
            assertEquals(0, rr.code(), rr.err());
            assertTrue(rr.out().contains("widths ranked by random, layers by every-k"), rr.out());
        }
        assertArrayEquals(T5Model.load(a).logits(SOURCE, TARGET), T5Model.load(b).logits(SOURCE, TARGET));
        assertNotEquals(Files.readString(a.resolve("pruning-plan.json")), Files.readString(c2.resolve("pruning-plan.json")));
    }

    @Test
    void aPrunedVocabularyRewritesTheTokenizerAndKeepsTheKeptIdsLogits(@TempDir Path tmp) throws IOException {
        Path t5 = SharedData.require("models/t5-tiny-random");
        Path corpus = SharedData.require("eval/tinystories/tinystories_val_head.txt");
        Path out = tmp.resolve("v");
        CliTest.Run r = shears("prune", t5.toString(), "--vocab-size", "1200", "--vocab-corpus", corpus.toString(), "--out", out.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        T5Model parent = T5Model.load(t5);
        T5Model child = T5Model.load(out);
        JsonNode vocab = Json.MAPPER.readTree(Files.readString(out.resolve("pruning-plan.json"))).path("vocab");
        int[] kept = new int[vocab.size()];
        for (int i = 0; i < kept.length; i++) kept[i] = vocab.get(i).asInt();
        assertEquals(child.vocabSize(), kept.length);
        assertEquals(kept.length, r.json().path("vocabulary").path("after").asInt());
        assertTrue(kept.length < parent.vocabSize(), "fewer ids: " + kept.length);
        Tokenizer before = TokenizerLoader.load(t5.resolve("tokenizer.json"));
        Tokenizer after = TokenizerLoader.load(out.resolve("tokenizer.json"));
        assertEquals(kept.length, after.vocabSize(), "the rewritten tokenizer has the model's rows");
        assertEquals("<extra_id_70>", before.piece(32));
        assertEquals(before.piece(32), after.piece(Arrays.binarySearch(kept, 32)), "a sentinel stays, with its piece");

        // a line of the corpus whose tokens are all kept: the child reads it as the parent does, at the kept ids
        String text = Files.readString(corpus).lines().filter(l -> !l.isBlank())
                .filter(l -> Arrays.stream(before.encode(l)).allMatch(id -> Arrays.binarySearch(kept, id) >= 0)).findFirst().orElseThrow();
        int[] old = before.encode(text);
        assertTrue(old.length >= 6, text);
        int[] now = after.encode(text);
        assertArrayEquals(Arrays.stream(old).map(id -> Arrays.binarySearch(kept, id)).toArray(), now, "the same tokens, renumbered");
        int[] source = Arrays.copyOf(now, Math.min(now.length, 8));
        int[] target = Arrays.copyOfRange(now, 1, Math.min(now.length, 6));
        float[] full = parent.logits(Arrays.stream(source).map(i -> kept[i]).toArray(), Arrays.stream(target).map(i -> kept[i]).toArray());
        float[] cut = child.logits(source, target);
        for (int t = 0; t < target.length; t++) {
            for (int i = 0; i < kept.length; i++) assertEquals(full[t * parent.vocabSize() + kept[i]], cut[t * kept.length + i], "position " + t + " id " + kept[i]);
        }
    }

    @Test
    void theHeapPlanHoldsParentChildAndTheirBytesInFp32(@TempDir Path tmp) {
        Path t5 = SharedData.require("models/t5-tiny-random");
        CliTest.Run plan = shears("--heap-plan", "prune", t5.toString(), "--ffn", "0.5", "--out", tmp.resolve("p").toString());
        assertEquals(0, plan.code(), plan.err());
        long parameters = T5Model.load(t5).parameterCount();
        assertEquals((64L << 20) + 3 * parameters * Float.BYTES, Long.parseLong(plan.out().strip()), "the JVM floor and three fp32 copies");
    }

    @Test
    void refusalsAreOneLineAndLeaveNoFolder(@TempDir Path tmp) throws Exception {
        Path t5 = SharedData.require("models/t5-tiny-random");
        Path openba = Path.of(PruneT5CommandTest.class.getResource("/torchref-openba/openba_bias_asym").toURI());
        Path stories = SharedData.require("models/stories260K/hf");
        Path out = tmp.resolve("o");
        record Case(String expected, String... args) {
        }
        for (Case c : new Case[]{
                new Case("the activation criterion needs calibration data", "prune", openba.toString(), "--heads", "0.5", "--importance", "activation", "--out", out.toString()),
                new Case("--layers (use --enc-layers and --dec-layers) does not apply to an encoder-decoder", "prune", t5.toString(), "--layers", "0.5", "--out", out.toString()),
                new Case("the activation criterion needs calibration data", "prune", t5.toString(), "--ffn", "0.5", "--importance", "activation", "--out", out.toString()),
                new Case("--calibration is read by --importance activation|taylor and --layer-importance block-influence|angular only", "prune", t5.toString(), "--ffn", "0.5",
                        "--importance", "random", "--layer-importance", "every-k",
                        "--calibration", t5.resolve("config.json").toString(), "--out", out.toString()),
                new Case("the taylor criterion needs calibration data", "prune", t5.toString(), "--ffn", "0.5", "--importance", "taylor", "--out", out.toString()),
                new Case("--taylor param-mix is not supported for an encoder-decoder; use gate, gate-per-sequence, gate-mix or gate-mix-per-sequence", "prune",
                        t5.toString(), "--ffn", "0.5", "--importance", "taylor", "--taylor", "param-mix", "--calibration", t5.resolve("config.json").toString(),
                        "--out", out.toString()),
                new Case("--layer-importance taylor does not rank the layers of an encoder-decoder", "prune", t5.toString(), "--dec-layers", "3",
                        "--layer-importance", "taylor", "--calibration", t5.resolve("config.json").toString(), "--out", out.toString()),
                new Case("angular distance needs a block of 1..5 decoder layers, got 7", "prune", t5.toString(), "--dec-layers", "3",
                        "--layer-importance", "angular", "--angular-span", "7", "--calibration", t5.resolve("config.json").toString(), "--out", out.toString()),
                new Case("--heads must be a fraction to remove in [0, 1), got 1.0", "prune", t5.toString(), "--heads", "1", "--out", out.toString()),
                new Case("--enc-layers 9 must keep 1..5 encoder layers", "prune", t5.toString(), "--enc-layers", "9", "--out", out.toString()),
                new Case("nothing to prune", "prune", t5.toString(), "--out", out.toString()),
                new Case("--enc-layers and --dec-layers apply to an encoder-decoder (T5 or OpenBA) folder only", "prune", stories.toString(), "--enc-layers", "2", "--out", out.toString())}) {
            CliTest.Run r = shears(c.args());
            assertNotEquals(0, r.code(), c.expected());
            assertTrue(r.err().contains(c.expected()), c.expected() + " in: " + r.err());
            assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
            assertFalse(Files.exists(out), c.expected() + ": no output folder");
        }
    }
}
