package dev.shears.recipe;

import dev.shears.SharedData;
import dev.shears.ShearsException;
import dev.shears.eval.ContextStart;
import dev.shears.eval.EvalSettings;
import dev.shears.eval.TaskResult;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EvalRunTest {
    @Test
    void benchEvalScoresTheFirstItemsAfterAWarmUp() {
        Path models = SharedData.require("models/stories260K");
        EvalSettings settings = new EvalSettings(4, EvalSettings.Sampling.FIRST, 0, 2, 0, ContextStart.BOS);
        TaskResult r = EvalRun.throughput(models.resolve("hf").toString(), Optional.of(models.resolve("tok512.bin")), "copa",
                SharedData.require("eval"), settings, 1);
        assertEquals("copa", r.task());
        assertEquals(4, r.items());
        assertTrue(r.tokens() > 0 && r.seconds() > 0, r.toString());
    }

    @Test
    void aMissingDataFolderIsOneLine() {
        ShearsException e = assertThrows(ShearsException.class, () -> EvalRun.throughput("unused", Optional.empty(), "copa",
                Path.of("no/such/folder"), new EvalSettings(1, EvalSettings.Sampling.FIRST, 0, 1, 0, ContextStart.BOS), 0));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }
}
