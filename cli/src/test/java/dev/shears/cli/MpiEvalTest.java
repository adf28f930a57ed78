package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.SharedData;
import dev.shears.cli.MpiRuns.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.shears.cli.MpiRuns.files;
import static dev.shears.cli.MpiRuns.run;
import static dev.shears.cli.MpiRuns.shears;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 17: {@code shears eval} under {@code mpirun -np 2} and {@code -np 3} (over loopback, one kernel thread per rank)
 * writes the JSON results (timings apart), the HTML page's files and the samples log byte-identical to one process. Seven
 * items per task share unevenly over 2 and 3 ranks; the tasks cover every way items are scored: multiple choice (copa),
 * greedy last word with a bootstrap stderr (lambada_openai), rolling perplexity (tinystories) and generation (nq_open).
 */
class MpiEvalTest {
    @TempDir
    static Path dir;

    @Test
    void evalOnTwoAndThreeRanksWritesTheResultsOfOneProcess() throws Exception {
        Path models = SharedData.require("models/stories260K");
        Path data = SharedData.require("eval");
        List<Path> outs = new ArrayList<>();
        for (int ranks : new int[] {0, 2, 3}) {
            Path out = Files.createDirectories(dir.resolve("ranks" + ranks));
            List<String> args = List.of("--threads", "1", "eval", models.resolve("hf").toString(), "--tokenizer", models.resolve("tok512.bin").toString(),
                    "--tasks", "copa,lambada_openai,tinystories,nq_open", "--limit", "7", "--sample", "first", "--batch", "2",
                    "--data-dir", data.toString(), "--json", out.resolve("eval.json").toString(), "--log-samples", out.resolve("samples.jsonl").toString());
            Result r = run(shears(ranks, args), Map.of(), 300, dir);
            String where = ranks == 0 ? "one process" : ranks + " ranks";
            assertEquals(0, r.code(), where + ":\n" + r.output());
            assertEquals(1, r.output().lines().filter(l -> l.startsWith("JSON: ")).count(), where + ": rank 0 alone prints\n" + r.output());
            assertEquals(28, Files.readAllLines(out.resolve("samples.jsonl")).size(), where + ": 7 documents of 4 tasks");
            outs.add(out);
        }
        Path single = outs.getFirst();
        JsonNode results = untimed(single.resolve("eval.json"));
        assertEquals(4, results.get("models").get(0).get("results").size(), results.toString());
        assertTrue(results.get("models").get(0).get("results").get("lambada_openai").has("perplexity_stderr"), results.toString());
        for (Path out : outs.subList(1, outs.size())) {
            assertEquals(files(single), files(out), out + ": the same files");
            assertEquals(results, untimed(out.resolve("eval.json")), out + ": the results");
            assertArrayEquals(Files.readAllBytes(single.resolve("samples.jsonl")), Files.readAllBytes(out.resolve("samples.jsonl")),
                    out + ": every document's requests, scores and generations");
        }
    }

    /** The results without their timing fields. */
    private static JsonNode untimed(Path json) throws Exception {
        JsonNode n = Json.MAPPER.readTree(json.toFile());
        for (JsonNode model : n.get("models")) {
            for (JsonNode task : model.get("results")) ((ObjectNode) task).remove(List.of("seconds", "items_per_second"));
        }
        return n;
    }
}
