package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shears.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 14: random seeds as an axis of every experiment — one pipeline over several seeds, each stage's numbers as mean ± std. */
class PipelineSeedsTest {
    @Test
    void aPipelineRunsOncePerSeedAndReportsMeanAndStandardDeviation(@TempDir Path tmp) throws IOException {
        Path tok = SharedData.require("models/stories260K/tok512.bin");
        Path text = tmp.resolve("text.txt");
        Files.writeString(text, Files.readString(SharedData.require("eval/tinystories/tinystories_val_head.txt")).substring(0, 20000));
        Path data = tmp.resolve("data");
        assertEquals(0, CliTest.shears("data", "prepare", "--tokenizer", tok.toString(), "--out", data.toString(), text.toString()).code());
        Path yaml = tmp.resolve("p.yaml");
        Files.writeString(yaml, """
                model: %s
                tokenizer: %s
                stages:
                  - name: cut
                    prune: {ffn: 0.5, importance: magnitude}
                  - name: heal
                    train: {data: [{path: %s, weight: 1}], steps: 4, batchSize: 4, seqLen: 64, evalInterval: 4, evalWindows: 2, seed: 99}
                """.formatted(SharedData.require("models/stories260K/hf"), tok, data));
        Path out = tmp.resolve("out");
        CliTest.Run r = CliTest.shears("pipeline", "run", yaml.toString(), "--out", out.toString(), "--seeds", "3,4,5", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode summary = r.json();
        assertEquals("[3,4,5]", summary.path("seeds").toString());
        JsonNode loss = summary.path("stages").path("02-heal").path("heldOutLoss data");
        double[] v = new double[3];
        for (int i = 0; i < 3; i++) v[i] = loss.path("values").get(i).asDouble();
        assertNotEquals(v[0], v[1], "different seeds, different batches");
        double mean = (v[0] + v[1] + v[2]) / 3;
        double std = Math.sqrt(((v[0] - mean) * (v[0] - mean) + (v[1] - mean) * (v[1] - mean) + (v[2] - mean) * (v[2] - mean)) / 2);
        assertEquals(mean, loss.path("mean").asDouble(), 1e-12);
        assertEquals(std, loss.path("std").asDouble(), 1e-12, "the sample standard deviation");
        // each seed's run is an ordinary pipeline run whose record holds the seed it ran with
        for (long seed : new long[] {3, 4, 5}) {
            JsonNode record = Json.MAPPER.readTree(out.resolve("seed-" + seed).resolve("pipeline.json").toFile());
            assertEquals(seed, record.get(1).path("settings").path("seed").asLong(), record.toString());
        }
        assertTrue(Files.readString(out.resolve("seeds.md")).contains("| 02-heal | heldOutLoss data | " + String.format(java.util.Locale.ROOT, "%.4f ± %.4f", mean, std)));
        // resuming a finished sweep runs nothing and reports the same numbers
        CliTest.Run again = CliTest.shears("pipeline", "run", yaml.toString(), "--out", out.toString(), "--seeds", "3,4,5", "--resume", "--json");
        assertEquals(0, again.code(), again.err());
        assertEquals(summary.path("stages"), again.json().path("stages"));
        CliTest.Run twice = CliTest.shears("pipeline", "run", yaml.toString(), "--out", tmp.resolve("x").toString(), "--seeds", "3,3");
        assertEquals(2, twice.code());
        assertEquals(1, twice.err().strip().lines().count(), twice.err());
    }
}
