package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shears.SharedData;
import dev.shears.seq2seq.T5Config;
import dev.shears.seq2seq.T5Model;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code shears shear T5_FOLDER --heads --ffn --hidden --enc-layers --dec-layers}: the encoder-decoder path, its outputs and its one-line errors. */
class ShearT5CommandTest {
    static final Path T5 = SharedData.require("models/t5-tiny-random");

    @Test
    void shearsTheTinyT5ToTheTargetShape(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("data"), out = tmp.resolve("run");
        CliTest.Run prepared = CliTest.shears("data", "prepare", "--tokenizer", T5.toString(), "--out", data.toString(),
                SharedData.require("eval/tinystories/tinystories_val_head.txt").toString());
        assertEquals(0, prepared.code(), prepared.err());
        CliTest.Run r = CliTest.shears("shear", "--model", T5.toString(), "--heads", "0.5", "--ffn", "0.5", "--hidden", "0.25", "--enc-layers", "3", "--dec-layers", "2",
                "--data", data.toString(), "--steps", "6", "--batch", "2", "--seq", "48", "--out", out.toString(), "--json",
                "--set", "evalInterval=3", "--set", "evalWindows=2");
        assertEquals(0, r.code(), r.err());
        JsonNode json = r.json();
        assertEquals(6, json.path("steps").asLong());
        assertTrue(json.path("paramsAfter").asLong() < json.path("paramsBefore").asLong());
        T5Config c = T5Model.load(out).config();
        assertEquals(3, c.encoder().size());
        assertEquals(2, c.decoder().size());
        assertEquals(24, c.dim());
        assertTrue(c.encoder().stream().allMatch(b -> b.numHeads() == 2 && b.ffnDim() == 19), c.describe());
        assertTrue(c.decoder().stream().allMatch(b -> b.numHeads() == 2 && b.crossHeads() == 2 && b.ffnDim() == 19), c.describe());
        for (String file : new String[]{"tokenizer.json", "gates.json", "pruning-plan.json", "shear-config.json", "metrics.jsonl", "report.json", "report.md", "report.html"}) {
            assertTrue(Files.isRegularFile(out.resolve(file)), file);
        }
    }

    @Test
    void optionsOfTheOtherKindAreOneLineErrors(@TempDir Path tmp) {
        CliTest.Run target = CliTest.shears("shear", T5.toString(), "--target", "layers=2", "--data", tmp.toString(), "--out", tmp.resolve("a").toString());
        assertNotEquals(0, target.code());
        assertTrue(target.err().contains("not --target or --target-config"), target.err());
        assertFalse(target.err().contains("\tat "), "no stack trace: " + target.err());
        Path hf = SharedData.require("models/stories260K/hf");
        CliTest.Run heads = CliTest.shears("shear", hf.toString(), "--heads", "0.5", "--data", tmp.toString(), "--out", tmp.resolve("b").toString());
        assertNotEquals(0, heads.code());
        assertTrue(heads.err().contains("shear an encoder-decoder"), heads.err());
    }

    @Test
    void theModelIsGivenOnce(@TempDir Path tmp) {
        CliTest.Run twice = CliTest.shears("shear", T5.toString(), "--model", T5.toString(), "--heads", "0.5", "--data", tmp.toString(), "--out", tmp.resolve("a").toString());
        assertNotEquals(0, twice.code());
        assertTrue(twice.err().contains("give the model to prune once"), twice.err());
        CliTest.Run none = CliTest.shears("shear", "--heads", "0.5", "--data", tmp.toString(), "--out", tmp.resolve("b").toString());
        assertNotEquals(0, none.code());
        assertTrue(none.err().contains("give the model to prune once"), none.err());
    }

    @Test
    void helpNamesTheEncoderDecoderOptions() {
        CliTest.Run help = CliTest.shears("shear", "--help");
        assertEquals(0, help.code());
        assertTrue(help.out().contains("--enc-layers") && help.out().contains("--objective") && help.out().contains("T5 or OpenBA"), help.out());
    }
}
