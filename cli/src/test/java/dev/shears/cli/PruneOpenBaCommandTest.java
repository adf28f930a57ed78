package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shears.SharedData;
import dev.shears.format.TokenizerLoader;
import dev.shears.io.DType;
import dev.shears.seq2seq.OpenBaConfig;
import dev.shears.seq2seq.OpenBaHfFolder;
import dev.shears.seq2seq.OpenBaWeights;
import dev.shears.seq2seq.T5Config;
import dev.shears.seq2seq.OpenBaModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static dev.shears.cli.CliTest.shears;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code shears prune} of an OpenBA folder: every width axis and both stacks' depth in one shot, into a folder that loads with its
 * per-layer shapes; data-free, or ranked on calibration text with the vocabulary cut and the tokenizer rewritten.
 */
class PruneOpenBaCommandTest {
    private static final int[] SOURCE = {5, 9, 1, 3, 7, 2};
    private static final int[] TARGET = {4, 8, 6, 1};

    private static Path fixture() throws Exception {
        // hidden 12, 3 heads of 6, SwiGLU width 256, 1 encoder and 3 decoder layers, q/k/v/o and LM-head biases, untied
        return Path.of(PruneOpenBaCommandTest.class.getResource("/torchref-openba/openba_bias_asym").toURI());
    }

    @Test
    void prunesEveryAxisIntoAFolderThatLoadsAndScores(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("small");
        CliTest.Run r = shears("prune", fixture().toString(), "--heads", "0.5", "--ffn", "0.5", "--hidden", "0.25", "--dec-layers", "2",
                "--out", out.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = r.json();
        assertEquals("magnitude", j.path("widthCriterion").asText());
        assertEquals("every-k", j.path("layerCriterion").asText());
        assertEquals(9, j.path("hiddenKept").asInt());

        OpenBaModel child = OpenBaModel.load(out);
        OpenBaConfig c = child.config();
        assertEquals(9, c.dim());
        assertEquals(1, c.encoder().size());
        assertEquals(2, c.decoder().size());
        for (OpenBaConfig.Block b : c.decoder()) assertEquals(new OpenBaConfig.Block(2, 2, 128), b, "round(3 · 0.5) heads of each kind, half of 256 neurons");
        assertTrue(c.qkvBias() && c.lmHeadBias() && !c.tiedEmbeddings(), "the parent's switches stay");
        assertEquals(j.path("paramsAfter").asLong(), child.parameterCount());
        assertTrue(child.parameterCount() < j.path("paramsBefore").asLong());
        for (float v : child.logits(SOURCE, TARGET)) assertTrue(Float.isFinite(v));
        JsonNode plan = Json.MAPPER.readTree(Files.readString(out.resolve("pruning-plan.json")));
        assertFalse(plan.path("decoder").path(2).path("kept").asBoolean(), "every-k drops decoder layer 2 of 3 when keeping 2");
        assertEquals(37, plan.path("vocab").size(), "the vocabulary is whole");
    }

    /**
     * A seeded random OpenBA with as many rows as t5-tiny-random's tokenizer has ids, and that tokenizer beside it: what
     * calibration and vocabulary pruning read.
     */
    static Path withTokenizer(Path dir) throws Exception {
        Path t5 = SharedData.require("models/t5-tiny-random");
        int rows = T5Config.read(t5.resolve("config.json")).vocabSize();
        OpenBaConfig c = new OpenBaConfig(16, 4, rows, true, true, false, 64, 64, 0, 0,
                List.of(new OpenBaConfig.Block(3, 0, 32), new OpenBaConfig.Block(3, 0, 32)),
                List.of(new OpenBaConfig.Block(3, 3, 32), new OpenBaConfig.Block(3, 3, 32), new OpenBaConfig.Block(3, 3, 32)));
        OpenBaWeights w = OpenBaWeights.zeros(c);
        SplittableRandom r = new SplittableRandom(5);
        w.forEach(c, (name, shape, values) -> {
            for (int i = 0; i < values.length; i++) values[i] = name.endsWith("layernorm.weight") ? 1f : (float) (0.2 * r.nextGaussian());
        });
        Files.createDirectories(dir);
        OpenBaModel model = new OpenBaModel(c, w);
        OpenBaHfFolder.write(model, OpenBaHfFolder.configJson(c, DType.F32), dir, DType.F32);
        for (String name : List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")) Files.copy(t5.resolve(name), dir.resolve(name));
        return dir;
    }

    @Test
    void calibrationRanksByActivationAndBlockInfluenceAndAPrunedVocabularyRewritesTheTokenizer(@TempDir Path tmp) throws Exception {
        Path parent = withTokenizer(tmp.resolve("parent"));
        Path corpus = SharedData.require("eval/tinystories/tinystories_val_head.txt");
        Path out = tmp.resolve("small");
        CliTest.Run r = shears("prune", parent.toString(), "--heads", "0.34", "--ffn", "0.5", "--dec-layers", "2", "--vocab-size", "1200",
                "--vocab-corpus", corpus.toString(), "--calibration", corpus.toString(), "--samples", "3", "--seq-len", "16", "--out", out.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = r.json();
        assertEquals("activation", j.path("widthCriterion").asText());
        assertEquals("block-influence", j.path("layerCriterion").asText());
        assertTrue(Double.isFinite(j.path("calibrationPerplexityBefore").asDouble()) && Double.isFinite(j.path("calibrationPerplexityAfter").asDouble()), r.out());
        OpenBaModel child = OpenBaModel.load(out);
        assertEquals(1200, child.vocabSize());
        assertEquals(2, child.config().decoder().size());
        assertEquals(new OpenBaConfig.Block(2, 2, 16), child.config().decoder().getFirst());
        assertEquals(1200, TokenizerLoader.load(out.resolve("tokenizer.json")).vocabSize(), "the rewritten tokenizer has the model's rows");
        for (float v : child.logits(SOURCE, TARGET)) assertTrue(Float.isFinite(v));
    }

    @Test
    void theHeapPlanHoldsParentChildAndTheirBytesInFp32(@TempDir Path tmp) throws Exception {
        CliTest.Run plan = shears("--heap-plan", "prune", fixture().toString(), "--ffn", "0.5", "--out", tmp.resolve("p").toString());
        assertEquals(0, plan.code(), plan.err());
        long parameters = OpenBaModel.load(fixture()).parameterCount();
        assertEquals((64L << 20) + 3 * parameters * Float.BYTES, Long.parseLong(plan.out().strip()), "the JVM floor and three fp32 copies");
    }

    @Test
    void randomScoresAreSeeded(@TempDir Path tmp) throws Exception {
        String[] first = {"prune", fixture().toString(), "--ffn", "0.5", "--importance", "random", "--seed", "3", "--out", tmp.resolve("a").toString()};
        String[] second = {"prune", fixture().toString(), "--ffn", "0.5", "--importance", "random", "--seed", "3", "--out", tmp.resolve("b").toString()};
        assertEquals(0, shears(first).code());
        assertEquals(0, shears(second).code());
        assertEquals(Files.readString(tmp.resolve("a/pruning-plan.json")), Files.readString(tmp.resolve("b/pruning-plan.json")), "the same seed keeps the same neurons");
        assertArrayEquals(OpenBaModel.load(tmp.resolve("a")).logits(SOURCE, TARGET), OpenBaModel.load(tmp.resolve("b")).logits(SOURCE, TARGET));
    }
}
