package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shears.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code shears shear} as a user runs it on stories260K: outputs, report, dynamic batch loading, errors. */
class ShearCommandTest {
    @Test
    void helpHasExamplesAndDefaults() {
        CliTest.Run help = CliTest.shears("shear", "--help");
        assertEquals(0, help.code());
        assertTrue(help.out().contains("Examples:") && help.out().contains("--lagrangian-warmup") && help.out().contains("Default: 0.2"), help.out());
    }

    @Test
    void shearsStories260KAndWritesModelGatesMetricsAndReport(@TempDir Path tmp) throws IOException {
        Path hf = SharedData.require("models/stories260K/hf");
        Path tok = SharedData.require("models/stories260K/tok512.bin");
        Path text = SharedData.require("eval/tinystories/tinystories_val_head.txt");
        Path data = tmp.resolve("tinystories");
        assertEquals(0, CliTest.shears("data", "prepare", "--tokenizer", tok.toString(), "--out", data.toString(), text.toString()).code());
        Path reference = tmp.resolve("reference.json");
        Files.writeString(reference, "{\"tinystories\": 1.5}");
        Path out = tmp.resolve("sheared");
        CliTest.Run r = CliTest.shears("shear", hf.toString(), "--target", "layers=4,ffn=86", "--data", data.toString(), "--out", out.toString(),
                "--steps", "20", "--batch", "4", "--seq", "64", "--dynamic-batch-loading", "--reference-losses", reference.toString(),
                "--set", "evalInterval=10", "--set", "evalWindows=4", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode summary = r.json();
        assertEquals(4, summary.path("after").path("numLayers").asInt());
        assertTrue(summary.path("paramsAfter").asLong() < summary.path("paramsBefore").asLong());
        JsonNode info = CliTest.shears("info", out.toString(), "--json").json();
        assertEquals(4, info.path("numLayers").asInt());
        for (String f : new String[] {"gates.json", "pruning-plan.json", "metrics.jsonl", "report.md", "report.json", "report.html", "shear-config.json"}) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains("<svg") && html.contains("ffn expected") && html.contains("Domain weights"), "charts of size vs target and domain weights");

        CliTest.Run both = CliTest.shears("shear", hf.toString(), "--target", "layers=4", "--target-config", hf.resolve("config.json").toString(),
                "--data", data.toString(), "--out", tmp.resolve("x").toString());
        assertEquals(2, both.code());
        assertTrue(both.err().contains("exactly one"), both.err());
    }
}
