package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shears.SharedData;
import dev.shears.seq2seq.OpenBaModel;
import dev.shears.seq2seq.T5Model;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code shears train --model FOLDER --objective ... [--dynamic]}: a T5 or an OpenBA trained on denoising, written back as its own folder. */
class T5TrainCommandTest {
    static final Path T5 = SharedData.require("models/t5-tiny-random");

    @Test
    void trainsAT5WithDynamicUl2AndWritesTheModelAndMetrics(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("data"), out = tmp.resolve("run");
        CliTest.Run prepared = CliTest.shears("data", "prepare", "--tokenizer", T5.toString(), "--out", data.toString(),
                SharedData.require("eval/tinystories/tinystories_val_head.txt").toString());
        assertEquals(0, prepared.code(), prepared.err());
        CliTest.Run r = train(data, out, false);
        assertEquals(0, r.code(), r.err());
        JsonNode json = r.json();
        assertEquals(4, json.path("steps").asLong());
        assertEquals(7, json.path("heldOutLoss").size(), "a loss per UL2 denoiser");

        List<JsonNode> lines = metrics(out);
        assertEquals(4, lines.stream().filter(l -> l.path("type").asText().equals("step")).count());
        assertEquals(1, lines.stream().filter(l -> l.path("type").asText().equals("final")).count());
        List<JsonNode> evals = lines.stream().filter(l -> l.path("type").asText().equals("eval")).toList();
        assertEquals(List.of(0L, 2L, 4L), evals.stream().map(l -> l.path("step").asLong()).toList());
        for (JsonNode e : evals) {
            assertEquals(7, e.path("heldOutLoss").size());
            double total = 0;
            for (JsonNode w : e.path("domainWeights")) total += w.asDouble();
            assertEquals(1.0, total, 1e-9, "the mixture weights after step " + e.path("step"));
        }
        assertNotEquals(evals.getFirst().path("domainWeights"), evals.getLast().path("domainWeights"), "Dynamic-UL2 moved the mixture");

        T5Model trained = T5Model.load(out);
        assertEquals(T5Model.load(T5).config(), trained.config());
        assertTrue(Files.isRegularFile(out.resolve("tokenizer.json")), "the tokenizer travels with the model");
        assertTrue(Files.isDirectory(out.resolve("checkpoints/step-00000004")));

        // a run killed after its step-2 checkpoint: resumed, it writes the same model and the same evaluations
        byte[] model = Files.readAllBytes(out.resolve("model.safetensors"));
        dev.shears.io.AtomicFiles.deleteTree(out.resolve("checkpoints/step-00000004"));
        Files.delete(out.resolve("model.safetensors"));
        CliTest.Run resumed = train(data, out, true);
        assertEquals(0, resumed.code(), resumed.err());
        assertEquals(2, resumed.json().path("resumedFrom").asLong());
        assertArrayEquals(model, Files.readAllBytes(out.resolve("model.safetensors")));
        assertEquals(evals, metrics(out).stream().filter(l -> l.path("type").asText().equals("eval")).toList());
        assertEquals(json.path("heldOutLoss"), resumed.json().path("heldOutLoss"));

        List<String> other = new java.util.ArrayList<>(List.of("train", "--model", T5.toString(), "--data", data.toString(), "--objective", "t5",
                "--steps", "4", "--out", out.toString(), "--resume"));
        CliTest.Run refused = CliTest.shears(other.toArray(String[]::new));
        assertNotEquals(0, refused.code());
        assertTrue(refused.err().contains("different configuration"), refused.err());
    }

    /** A folder prepared before the vocabulary was pruned names ids the child has not, or other pieces: refused in one line before training. */
    @Test
    void refusesDataPreparedWithAnotherVocabulary(@TempDir Path tmp) {
        Path text = SharedData.require("eval/tinystories/tinystories_val_head.txt");
        Path data = tmp.resolve("data"), small = tmp.resolve("small");
        assertEquals(0, CliTest.shears("data", "prepare", "--tokenizer", T5.toString(), "--out", data.toString(), text.toString()).code());
        CliTest.Run pruned = CliTest.shears("prune", T5.toString(), "--vocab-size", "1200", "--vocab-corpus", text.toString(), "--out", small.toString());
        assertEquals(0, pruned.code(), pruned.err());
        CliTest.Run r = CliTest.shears("train", "--model", small.toString(), "--data", data.toString(), "--steps", "1", "--out", tmp.resolve("run").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(data + ": prepared with a ") && r.err().contains("-token vocabulary, but the model's tokenizer has 1200"), r.err());
        assertEquals(1, r.err().lines().filter(l -> !l.startsWith("WARNING")).count(), r.err());
        assertFalse(Files.exists(tmp.resolve("run", "model.safetensors")));
    }

    private static CliTest.Run train(Path data, Path out, boolean resume) {
        List<String> args = new java.util.ArrayList<>(List.of("train", "--model", T5.toString(), "--data", data.toString(), "--objective", "ul2", "--dynamic",
                "--steps", "4", "--out", out.toString(), "--json", "--set", "batchSize=2", "--set", "seqLen=64", "--set", "evalInterval=2",
                "--set", "evalWindows=2", "--set", "lr=1e-2", "--set", "warmupSteps=1", "--set", "checkpointInterval=2"));
        if (resume) args.add("--resume");
        return CliTest.shears(args.toArray(String[]::new));
    }

    private static List<JsonNode> metrics(Path out) throws java.io.IOException {
        return Files.readAllLines(out.resolve("metrics.jsonl")).stream().map(l -> {
            try {
                return Json.MAPPER.readTree(l);
            } catch (Exception e) {
                throw new AssertionError(l, e);
            }
        }).toList();
    }

    /** An OpenBA folder (seeded, with t5-tiny's tokenizer beside it) trains the same way and is written back as an OpenBA folder. */
    @Test
    void trainsAnOpenBaTheSameWay(@TempDir Path tmp) throws Exception {
        Path openBa = PruneOpenBaCommandTest.withTokenizer(tmp.resolve("openba"));
        Path data = tmp.resolve("data"), out = tmp.resolve("run");
        CliTest.Run prepared = CliTest.shears("data", "prepare", "--tokenizer", openBa.toString(), "--out", data.toString(),
                SharedData.require("eval/tinystories/tinystories_val_head.txt").toString());
        assertEquals(0, prepared.code(), prepared.err());
        CliTest.Run r = CliTest.shears("train", "--model", openBa.toString(), "--data", data.toString(), "--objective", "ul2", "--dynamic",
                "--steps", "3", "--out", out.toString(), "--json", "--set", "batchSize=2", "--set", "seqLen=24", "--set", "evalInterval=1",
                "--set", "evalWindows=2", "--set", "lr=1e-2", "--set", "warmupSteps=1", "--set", "checkpointInterval=2");
        assertEquals(0, r.code(), r.err());
        assertEquals(3, r.json().path("steps").asLong());
        assertEquals(7, r.json().path("heldOutLoss").size(), "a loss per UL2 denoiser");
        assertEquals(OpenBaModel.load(openBa).config(), OpenBaModel.load(out).config(), "written back as the OpenBA it was");
        assertEquals(4, metrics(out).stream().filter(l -> l.path("type").asText().equals("eval")).count(), "steps 0 to 3");
    }
}
