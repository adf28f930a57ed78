package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shears.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.shears.cli.CliTest.shears;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code shears eval --num-fewshot} end to end on stories260K: few-shot contexts of several thousand
 * characters (BoolQ's passages, far past the model's 512-token window) are left-truncated and scored, never
 * an error; the report carries each task's shot count, lm-eval's metric names, the fallbacks, and the
 * MMLU groups.
 */
class EvalFewShotCliTest {
    @Test
    void fewShotEvalReportsShotsMetricsFallbacksAndGroups(@TempDir Path tmp) throws IOException {
        Path dir = SharedData.require("models/stories260K");
        Path data = SharedData.require("eval");
        Path json = tmp.resolve("eval.json");
        CliTest.Run r = shears("eval", dir.resolve("hf").toString(), "--tokenizer", dir.resolve("tok512.bin").toString(),
                "--tasks", "arc_challenge,boolq,mmlu_stem", "--num-fewshot", "3", "--limit", "2", "--sample", "first",
                "--data-dir", data.toString(), "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("| arc_challenge 3-shot | 2 | acc_norm |"), r.out());
        assertTrue(r.out().contains("| boolq 3-shot | 2 | acc |"), r.out());
        assertFalse(r.out().contains("| boolq 3-shot | 2 | acc_norm |"), "boolq's metric_list is acc alone: " + r.out());
        assertTrue(r.out().contains("| mmlu_stem 3-shot | 38 | acc |"), "19 subjects × 2 items: " + r.out());
        assertTrue(r.out().contains("boolq: few-shot examples from validation"), r.out());

        JsonNode report = Json.MAPPER.readTree(json.toFile());
        assertEquals(3, report.path("settings").path("num_fewshot").asInt());
        JsonNode results = report.path("models").get(0).path("results");
        List<String> names = new ArrayList<>();
        results.fieldNames().forEachRemaining(names::add);
        assertEquals(2 + 19 + 1, names.size(), names.toString());
        assertEquals("mmlu_stem", names.getLast(), "the group after its leaves");
        JsonNode arc = results.path("arc_challenge");
        assertEquals(2, arc.path("items").asInt());
        assertEquals(1172, arc.path("available").asInt(), "ARC-Challenge's test split");
        assertEquals(3, arc.path("num_fewshot").asInt());
        assertEquals(0, arc.path("notes").size());
        for (String metric : new String[] {"acc", "acc_stderr", "acc_norm", "acc_norm_stderr", "chance"}) assertTrue(arc.has(metric), metric);
        JsonNode boolq = results.path("boolq");
        assertFalse(boolq.has("acc_norm"));
        assertTrue(boolq.path("notes").get(0).asText().contains("train split (mc/boolq_train.jsonl) is not in the data folder"), boolq.toString());
        JsonNode group = results.path("mmlu_stem");
        assertEquals(38, group.path("items").asInt());
        assertTrue(group.has("acc") && group.has("acc_stderr") && !group.has("acc_norm"), group.toString());
        double weighted = 0;
        for (String n : names) if (n.startsWith("mmlu_") && !n.equals("mmlu_stem")) weighted += results.path(n).path("acc").asDouble() * 2;
        assertEquals(weighted / 38, group.path("acc").asDouble(), 1e-12);
        JsonNode tasks = report.path("tasks");
        assertTrue(tasks.get(tasks.size() - 1).path("group").asBoolean());
        assertEquals("mc/arc_challenge.jsonl", tasks.get(0).path("file").asText());
    }

    @Test
    void aSuitePrintsThePapersTableWithAnAverage(@TempDir Path tmp) throws IOException {
        Path dir = SharedData.require("models/stories260K");
        Path json = tmp.resolve("jha.json");
        CliTest.Run r = shears("eval", dir.resolve("stories260K.bin").toString(), dir.resolve("hf").toString(), "--tokenizer", dir.resolve("tok512.bin").toString(),
                "--suite", "jha", "--limit", "3", "--sample", "first", "--data-dir", SharedData.require("eval").toString(), "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("| model | ARC-C | ARC-E | BoolQ | COPA | HellaSwag | LogiQA | OBQA | PIQA | SciQ | WinoGrande | WikiText ppl | Average |"), r.out());
        assertTrue(r.out().contains("missing: HeadQA and MathQA"), r.out());
        JsonNode suite = Json.MAPPER.readTree(json.toFile()).path("suite");
        assertEquals("jha", suite.path("name").asText());
        assertEquals(11, suite.path("columns").size());
        JsonNode row = suite.path("rows").get(0);
        double sum = 0;
        for (JsonNode c : suite.path("columns")) if (c.path("percent").asBoolean()) sum += row.path("values").path(c.path("label").asText()).asDouble();
        assertEquals(sum / 10, row.path("average").asDouble(), 1e-9, "the mean of the 10 accuracy columns, perplexity left out");
        assertEquals(row.path("values").toString(), suite.path("rows").get(1).path("values").toString(), "the same model as .bin and HF folder");

        CliTest.Run both = shears("eval", dir.resolve("hf").toString(), "--suite", "jha", "--tasks", "copa");
        assertEquals(2, both.code());
        assertTrue(both.err().contains("either --tasks or --suite"), both.err());
        CliTest.Run unknown = shears("eval", dir.resolve("hf").toString(), "--suite", "nope");
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().contains("suites: sheared-llama, openba-v2, jha"), unknown.err());
    }

    /** The generation tasks: exact_match with its standard error in every report, their fallbacks, and the samples log. */
    @Test
    void generationTasksReportExactMatchAndLogTheirAnswers(@TempDir Path tmp) throws IOException {
        Path dir = SharedData.require("models/stories260K");
        Path json = tmp.resolve("eval.json");
        Path samples = tmp.resolve("samples.jsonl");
        CliTest.Run r = shears("eval", dir.resolve("hf").toString(), "--tokenizer", dir.resolve("tok512.bin").toString(),
                "--tasks", "nq_open,triviaqa", "--num-fewshot", "2", "--limit", "3", "--sample", "first",
                "--data-dir", SharedData.require("eval").toString(), "--json", json.toString(), "--log-samples", samples.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("| nq_open 2-shot | 3 | exact_match |"), r.out());
        assertTrue(r.out().contains("| triviaqa 2-shot | 3 | exact_match |"), r.out());
        assertTrue(r.out().contains("nq_open: few-shot examples drawn from DPR's NQ dev file"), r.out());
        assertTrue(r.out().contains("triviaqa: few-shot examples from validation"), r.out());

        JsonNode nq = Json.MAPPER.readTree(json.toFile()).path("models").get(0).path("results").path("nq_open");
        assertEquals(3, nq.path("items").asInt());
        assertEquals(3610, nq.path("available").asInt());
        assertTrue(nq.has("exact_match") && nq.has("exact_match_stderr"), nq.toString());
        List<String> lines = java.nio.file.Files.readAllLines(samples);
        assertEquals(6, lines.size());
        JsonNode first = Json.MAPPER.readTree(lines.get(0));
        assertEquals("nq_open", first.path("task").asText());
        assertEquals("14 December 1972 UTC", first.path("target").get(0).asText());
        JsonNode request = first.path("requests").get(0);
        assertTrue(request.path("context").asText().startsWith("Answer these questions:\n\nQ: "), request.toString());
        assertTrue(request.has("generation") && request.path("tokens").asInt() >= 0, request.toString());
        assertEquals(request.path("generation").asText().strip(), first.path("filtered").asText());
        assertTrue(first.path("metrics").has("exact_match"), first.toString());
    }
}
