package dev.shears.recipe;

import dev.shears.SharedData;
import dev.shears.ShearsException;
import dev.shears.eval.ContextStart;
import dev.shears.eval.EvalSettings;
import dev.shears.eval.TaskResult;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.eval.Evaluator;
import dev.shears.eval.Suite;
import dev.shears.eval.Item;
import dev.shears.eval.TaskCatalog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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

    /** The warm-up loads more items than the timed run scores; each keeps its own document ids. */
    @Test
    void aWarmUpLongerThanTheLimitRuns() {
        Path models = SharedData.require("models/stories260K");
        EvalSettings settings = new EvalSettings(1, EvalSettings.Sampling.SEEDED, 3, 1, 0, ContextStart.BOS);
        TaskResult r = EvalRun.throughput(models.resolve("hf").toString(), Optional.of(models.resolve("tok512.bin")), "copa",
                SharedData.require("eval"), settings, 3);
        assertEquals(1, r.items());
    }

    @Test
    void aMissingDataFolderIsOneLine() {
        ShearsException e = assertThrows(ShearsException.class, () -> EvalRun.throughput("unused", Optional.empty(), "copa",
                Path.of("no/such/folder"), new EvalSettings(1, EvalSettings.Sampling.FIRST, 0, 1, 0, ContextStart.BOS), 0));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }

    /**
     * --log-samples: one line per scored document with the exact requests, and lines that add up to the reported
     * metrics (acc is the mean of the lines' acc; bits per byte is their log-likelihoods over their bytes).
     */
    @Test
    void theSamplesLogHoldsEveryRequestAndAddsUpToTheMetrics(@TempDir Path tmp) throws IOException {
        Path models = SharedData.require("models/stories260K");
        Path data = SharedData.require("eval");
        EvalSettings settings = new EvalSettings(5, EvalSettings.Sampling.FIRST, 0, 2, 0, ContextStart.BOS);
        Path log = tmp.resolve("samples.jsonl");
        String model = models.resolve("hf").toString();
        EvalRun.Result result = EvalRun.run(new EvalRun.Request(List.of(model), Optional.of(models.resolve("tok512.bin")), List.of("copa", "tinystories"),
                data, settings, Optional.of(log), Optional.empty()), dev.shears.progress.Progress.SILENT);
        List<JsonNode> lines = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(log)) lines.add(json.readTree(line));
        assertEquals(10, lines.size());
        List<Item> copa = Evaluator.load(TaskCatalog.task("copa"), data, settings).items();
        double acc = 0;
        for (int i = 0; i < 5; i++) {
            JsonNode l = lines.get(i);
            assertEquals(model, l.get("model").asText());
            assertEquals("copa", l.get("task").asText());
            assertEquals(i, l.get("doc_id").asInt(), "--sample first: the first documents");
            Item.MultipleChoice mc = (Item.MultipleChoice) copa.get(i);
            assertEquals(mc.gold(), l.get("target").asInt());
            JsonNode requests = l.get("requests");
            assertEquals(2, requests.size());
            int best = 0;
            for (int c = 0; c < 2; c++) {
                assertEquals(mc.choices().get(c).context(), requests.get(c).get("context").asText());
                assertEquals(mc.choices().get(c).continuation(), requests.get(c).get("continuation").asText());
                assertTrue(requests.get(c).get("tokens").asInt() > 0);
                if (requests.get(c).get("loglikelihood").asDouble() > requests.get(best).get("loglikelihood").asDouble()) best = c;
            }
            assertEquals(best == mc.gold() ? 1.0 : 0.0, l.get("metrics").get("acc").asDouble(), "acc is the argmax of the logged log-likelihoods");
            acc += l.get("metrics").get("acc").asDouble() / 5;
        }
        List<TaskResult> results = result.models().get(0).results();
        assertEquals(results.get(0).metric("acc").orElseThrow().value(), acc, 1e-12);
        double ll = 0, bytes = 0;
        for (JsonNode l : lines.subList(5, 10)) {
            assertEquals("tinystories", l.get("task").asText());
            assertEquals("", l.get("requests").get(0).get("context").asText());
            assertFalse(l.has("target"));
            ll += l.get("metrics").get("loglikelihood").asDouble();
            bytes += l.get("metrics").get("bytes").asDouble();
        }
        assertEquals(results.get(1).metric("bits_per_byte").orElseThrow().value(), -ll / bytes / Math.log(2), 1e-12);
    }

    @Test
    void aFailedRunLeavesNoSamplesLog(@TempDir Path tmp) throws IOException {
        Path log = tmp.resolve("samples.jsonl");
        assertThrows(ShearsException.class, () -> EvalRun.run(new EvalRun.Request(List.of(tmp.resolve("no-model").toString()), Optional.empty(),
                List.of("copa"), SharedData.require("eval"), new EvalSettings(1, EvalSettings.Sampling.FIRST, 0, 1, 0, ContextStart.BOS),
                Optional.of(log), Optional.empty()), dev.shears.progress.Progress.SILENT));
        assertFalse(Files.exists(log));
        try (var left = Files.list(tmp)) {
            assertEquals(List.of(), left.toList(), "nor a temporary file");
        }
    }

    @Test
    void aSuiteRunsEachTaskAtItsColumnsShotsAndGroupLeavesAtTheGroups() {
        Path models = SharedData.require("models/stories260K");
        Suite suite = new Suite("test", "a test table", "this test", List.of(
                new Suite.Column("A", "ARC-E", "arc_easy", 0, "acc"),
                new Suite.Column("A", "ARC-C", "arc_challenge", 3, "acc_norm"),
                new Suite.Column("B", "Humanities", "mmlu_humanities", 2, "acc")), List.of());
        EvalSettings settings = new EvalSettings(2, EvalSettings.Sampling.FIRST, 0, 2, 0, ContextStart.BOS);
        EvalRun.Result result = EvalRun.run(EvalRun.Request.suite(List.of(models.resolve("hf").toString()), Optional.of(models.resolve("tok512.bin")), suite,
                SharedData.require("eval"), settings, Optional.empty()), dev.shears.progress.Progress.SILENT);
        List<TaskResult> results = result.models().get(0).results();
        java.util.Map<String, TaskResult> byName = new java.util.HashMap<>();
        for (TaskResult r : results) byName.put(r.task(), r);
        assertEquals(0, byName.get("arc_easy").shots());
        assertEquals(3, byName.get("arc_challenge").shots());
        assertEquals(2, byName.get("mmlu_philosophy").shots(), "a leaf of the group takes the group's shots");
        assertEquals(2, byName.get("mmlu_humanities").shots());
        assertFalse(byName.containsKey("mmlu_anatomy"), "only the group's own leaves run");
        double acc = byName.get("mmlu_humanities").metric("acc").orElseThrow().value();
        assertEquals(100 * acc, Suite.value(suite.columns().get(2), results).orElseThrow(), 1e-12);
        double mean = (Suite.value(suite.columns().get(0), results).orElseThrow() + Suite.value(suite.columns().get(1), results).orElseThrow() + 100 * acc) / 3;
        assertEquals(mean, suite.average(results).orElseThrow(), 1e-12);
    }
}
