package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** README's main command, short: it needs nothing from ../shared and leaves every stage, the GGUF and the report. */
class DemoTest {
    @Test
    void theDemoRunsEveryStageOnItsOwnDataAndResumesToTheSameEnd(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("demo");
        CliTest.Run r = CliTest.shears("demo", "--out", out.toString(), "--steps", "20", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode summary = r.json();
        JsonNode stages = summary.path("stages");
        assertEquals(11, stages.size(), "parent, eval, depth, heal, width, heal, eval, vocabulary, heal, eval, export");
        assertTrue(Files.isRegularFile(out.resolve("11-export/model.gguf")));
        assertTrue(Files.isRegularFile(out.resolve("demo-pipeline.yaml")));
        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains("Shears demo") && html.contains("<svg") && html.contains("name_recall"), "the report holds the journey");
        long finalParams = stages.get(10).path("params").asLong(), parentParams = stages.get(0).path("params").asLong();
        assertTrue(finalParams < parentParams / 2, finalParams + " of " + parentParams);

        CliTest.Run again = CliTest.shears("demo", "--out", out.toString(), "--steps", "20", "--json", "--resume");
        assertEquals(0, again.code(), again.err());
        assertTrue(again.json().path("stages").get(0).path("skipped").asBoolean(), "a finished demo is not redone");
        CliTest.Run refused = CliTest.shears("demo", "--out", out.toString(), "--steps", "20");
        assertEquals(2, refused.code());
        assertTrue(refused.err().contains("--resume"), refused.err());
    }
}
