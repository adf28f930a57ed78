package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shears.seq2seq.OpenBaConfig;
import dev.shears.seq2seq.OpenBaModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static dev.shears.cli.CliTest.shears;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code shears prune} of an OpenBA folder: every width axis and both stacks' depth in one shot, into a folder that loads with its per-layer shapes. */
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
