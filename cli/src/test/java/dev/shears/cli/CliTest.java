package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shears.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line as a user meets it: exit codes, one JSON object on stdout, one-line errors. */
class CliTest {
    record Run(int code, String out, String err) {
        JsonNode json() {
            try {
                return Json.MAPPER.readTree(out);
            } catch (IOException e) {
                throw new AssertionError("stdout is not one JSON object: " + out, e);
            }
        }
    }

    /** Runs the command line with stream-backed writers, as {@code main} does (so unflushed output would be lost here too). */
    static Run shears(String... args) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(), err = new java.io.ByteArrayOutputStream();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(java.nio.charset.StandardCharsets.UTF_8), err.toString(java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void verboseAfterTheSubcommandIsHonoured() {
        // issue 13: `shears train --verbose` was accepted and then ignored
        for (String[] args : new String[][] {{"--verbose", "info", "x"}, {"info", "x", "--verbose"}}) {
            assertTrue(Main.matched(Main.commandLine().parseArgs(args), "--verbose"), String.join(" ", args));
        }
        assertFalse(Main.matched(Main.commandLine().parseArgs("info", "x"), "--verbose"));
    }

    @Test
    void everyCommandHasHelpWithExamples() {
        for (String command : new String[] {"demo", "info", "init", "perplexity", "generate", "score", "train", "bench", "data", "eval", "prune", "shear", "pipeline", "export"}) {
            Run r = shears(command, "--help");
            assertEquals(0, r.code(), command);
            assertTrue(r.out().contains("Usage: shears " + command), command + ": " + r.out());
        }
        for (String command : new String[] {"demo", "info", "init", "perplexity", "generate", "score", "train", "eval", "prune", "shear", "export"}) {
            assertTrue(shears(command, "--help").out().contains("Examples:"), command);
        }
        for (String[] sub : new String[][] {{"data", "prepare"}, {"pipeline", "run"}, {"pipeline", "check"}, {"bench", "forward"}, {"bench", "train"}}) {
            assertTrue(shears(sub[0], sub[1], "--help").out().contains("Examples:"), String.join(" ", sub));
        }
        assertTrue(shears("bench", "eval", "--help").out().contains("Examples:"));
        String initHelp = shears("init", "--help").out();
        for (dev.shears.model.KnownShape shape : dev.shears.model.KnownShape.values()) {
            assertTrue(initHelp.contains(shape.userName), "init --help lists " + shape.userName);
        }
        // the configuration defaults in the help come from the defaults records, whitespace aside
        String trainHelp = shears("train", "--help").out().replaceAll("\\s+", " ");
        dev.shears.train.TrainConfig t = dev.shears.train.TrainConfig.DEFAULT;
        for (String item : new String[] {"steps " + t.schedule().steps(), "evalInterval " + t.evaluation().evalInterval(), "seed " + t.batching().seed(), "decay " + t.schedule().decay(), "lr 0.001"}) {
            assertTrue(trainHelp.contains(item + ","), "train --help lists " + item);
        }
        String shearHelp = shears("shear", "--help").out().replaceAll("\\s+", " ");
        dev.shears.train.TrainConfig s = dev.shears.recipe.ShearConfig.DEFAULT.train();
        for (String item : new String[] {"steps " + s.schedule().steps(), "evalInterval " + s.evaluation().evalInterval(), "decay " + s.schedule().decay(), "lr 1e-4"}) {
            assertTrue(shearHelp.contains(item + ","), "shear --help lists " + item);
        }
    }

    @Test
    void sharedOptionClassesKeepEachCommandsDefaultsAndRequirements() {
        // BatchOptions: shear shows and applies its defaults record's batch shape, train leaves it to the configuration
        dev.shears.train.TrainConfig s = dev.shears.recipe.ShearConfig.DEFAULT.train();
        String shearHelp = shears("shear", "--help").out(), trainHelp = shears("train", "--help").out();
        assertTrue(optionHelp(shearHelp, "--batch=N").contains("Default: " + s.batching().batchSize()), shearHelp);
        assertTrue(optionHelp(shearHelp, "--seq=N").contains("Default: " + s.batching().seqLen()), shearHelp);
        assertFalse(optionHelp(trainHelp, "--batch=N").contains("Default:"), trainHelp);
        assertFalse(optionHelp(trainHelp, "--seq=N").contains("Default:"), trainHelp);
        // RunFolder: --out stays required wherever it is mixed in
        for (String[] args : new String[][] {{"train"}, {"shear", "model", "--data", "data"}, {"pipeline", "run", "pipeline.yaml"}}) {
            Run r = shears(args);
            assertEquals(2, r.code(), String.join(" ", args));
            assertTrue(r.err().contains("Missing required option: '--out=DIR'"), r.err());
        }
    }

    /** The lines {@code --help} gives one option: its own and those indented under it. */
    private static String optionHelp(String help, String option) {
        StringBuilder lines = new StringBuilder();
        boolean in = false;
        for (String line : help.split("\\R")) {
            if (line.strip().startsWith("-")) in = line.strip().startsWith(option);
            if (in) lines.append(line).append('\n');
        }
        assertFalse(lines.isEmpty(), option + " in " + help);
        return lines.toString();
    }

    @Test
    void userMistakesAreOneLineErrorsWithExitCodeTwo(@TempDir Path tmp) throws IOException {
        Run missing = shears("info", tmp.resolve("nope").toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().startsWith("shears: error: ") && missing.err().contains("nope"), missing.err());
        assertFalse(missing.err().contains("\tat "), "no stack trace");

        Path garbage = tmp.resolve("model.safetensors");
        Files.write(garbage, new byte[] {1, 2, 3});
        Run bad = shears("info", garbage.toString());
        assertEquals(2, bad.code(), bad.err());
        assertFalse(bad.err().contains("\tat "), bad.err());

        Run unknownOption = shears("perplexity", "--bogus");
        assertEquals(2, unknownOption.code());
        assertTrue(unknownOption.err().contains("--help"), unknownOption.err());

        Run badSet = shears("train", "--out", tmp.resolve("run").toString(), "--set", "nosuchkey=3");
        assertEquals(2, badSet.code());
        assertTrue(badSet.err().contains("nosuchkey"), badSet.err());
        assertFalse(Files.exists(tmp.resolve("run")), "nothing written for a rejected config");
    }

    @Test
    void infoAndPerplexityOnTheRealModel() {
        Path hf = SharedData.require("models/stories260K/hf");
        Path tok = SharedData.require("models/stories260K/tok512.bin");
        Path text = SharedData.require("eval/tinystories/tinystories_val_head.txt");
        JsonNode info = shears("info", hf.toString(), "--json").json();
        assertEquals(5, info.path("numLayers").asInt());
        assertEquals(64, info.path("dim").asInt());
        assertEquals(512, info.path("vocabSize").asInt());
        assertEquals(8, info.path("layers").get(0).path("numHeads").asInt());
        assertEquals(4, info.path("layers").get(0).path("numKvHeads").asInt());
        assertEquals(260_000, info.path("params").asDouble(), 10_000);

        Run r = shears("perplexity", hf.toString(), "--tokenizer", tok.toString(), "--text", text.toString(), "--limit-chars", "20000", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode p = r.json();
        for (String key : new String[] {"tokens", "nll", "ppl", "word_ppl", "byte_ppl", "bits_per_byte"}) assertTrue(p.has(key), key);
        assertEquals(Math.exp(p.path("nll").asDouble()), p.path("ppl").asDouble(), 1e-9 * p.path("ppl").asDouble());
        assertTrue(p.path("nll").asDouble() > 0.5 && p.path("nll").asDouble() < 3, "stories260K on TinyStories: " + p);
    }

    @Test
    void generateIsGreedyAndRepeatable() {
        Path bin = SharedData.require("models/stories260K/stories260K.bin");
        Path tok = SharedData.require("models/stories260K/tok512.bin");
        Run a = shears("generate", bin.toString(), "--tokenizer", tok.toString(), "--prompt", "Once upon a time", "--max-tokens", "20", "--json");
        Run b = shears("generate", bin.toString(), "--tokenizer", tok.toString(), "--prompt", "Once upon a time", "--max-tokens", "20", "--json");
        assertEquals(0, a.code(), a.err());
        assertEquals(a.json().path("text"), b.json().path("text"));
        assertFalse(a.json().path("text").asText().isBlank());
    }

    @Test
    void scorePrintsTheTargetsLogLikelihoodAndTheIdsItScored() {
        Path bin = SharedData.require("models/stories260K/stories260K.bin");
        Path tok = SharedData.require("models/stories260K/tok512.bin");
        Run text = shears("score", bin.toString(), "--tokenizer", tok.toString(), "--source", "Once upon a time", "--target", " there was a cat", "--json");
        assertEquals(0, text.code(), text.err());
        JsonNode t = text.json();
        JsonNode source = t.path("ids").path("source"), target = t.path("ids").path("target");
        assertEquals(1, source.get(0).asInt(), "llama2.c's tokenizer adds BOS before the source");
        assertEquals(target.size(), t.path("tokens").asInt());
        assertTrue(t.path("loglik").asDouble() < 0, t.toString());
        // the same ids given directly score the same
        StringBuilder s = new StringBuilder(), g = new StringBuilder();
        source.forEach(id -> s.append(s.isEmpty() ? "" : ",").append(id.asInt()));
        target.forEach(id -> g.append(g.isEmpty() ? "" : ",").append(id.asInt()));
        Run ids = shears("score", bin.toString(), "--tokenizer", tok.toString(), "--source-ids", s.toString(), "--target-ids", g.toString(), "--json");
        assertEquals(0, ids.code(), ids.err());
        assertEquals(t.path("loglik").asDouble(), ids.json().path("loglik").asDouble());
        Run bad = shears("score", bin.toString(), "--tokenizer", tok.toString(), "--source-ids", "1,5000", "--target-ids", "3");
        assertEquals(2, bad.code());
        assertEquals("shears: error: source id 5000 at position 1 is outside the model's vocabulary [0, 512)", bad.err().strip());
    }

    @Test
    void infoReadsAnEncoderDecoderFromItsConfigAlone() {
        Path t5 = SharedData.require("models/t5-tiny-random");
        Run r = shears("info", t5.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = r.json();
        assertEquals("T5ForConditionalGeneration", j.path("architecture").asText());
        assertEquals(5, j.path("encoder").size());
        assertEquals(4, j.path("decoder").get(0).path("crossHeads").asInt());
        assertEquals(127_712, j.path("params").asLong(), "the tiny T5's parameters, as its weights hold them");
        assertTrue(shears("info", t5.toString()).out().contains("decoder  4: 4 heads, 4 cross heads, FFN 37"));
    }

    @Test
    void evalScoresAnEncoderDecoderBesideADecoderOnlyModel() {
        Path t5 = SharedData.require("models/t5-tiny-random");
        Path dir = SharedData.require("models/stories260K");
        Run r = shears("eval", t5.toString(), dir.resolve("hf") + "=" + dir.resolve("tok512.bin"), "--tasks", "copa,tinystories", "--limit", "3",
                "--data-dir", SharedData.require("eval").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("| t5-tiny-random | T5 5+5 layers, d_model 32, heads 4 × 8, ffn 37 (relu), vocab 1302 |"), r.out());
        assertTrue(r.out().contains("| copa | 3 | acc |") && r.out().contains("| tinystories | 3 | word_perplexity |"), r.out());
        Run generated = shears("eval", t5.toString(), "--tasks", "nq_open", "--limit", "2", "--data-dir", SharedData.require("eval").toString());
        assertEquals(0, generated.code(), generated.err());
        assertTrue(generated.out().contains("| nq_open | 2 | exact_match |"), generated.out());
    }

    @Test
    void evalPutsModelsSideBySide(@TempDir Path tmp) throws IOException {
        Path dir = SharedData.require("models/stories260K");
        Path data = SharedData.require("eval");
        Path json = tmp.resolve("eval.json");
        Run r = shears("eval", dir.resolve("stories260K.bin") + "=" + dir.resolve("tok512.bin"), dir.resolve("hf").toString(),
                "--tokenizer", dir.resolve("tok512.bin").toString(), "--tasks", "copa,lambada_openai,tinystories", "--limit", "6",
                "--data-dir", data.toString(), "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("| task | items | metric | stories260K.bin | stories260K/hf |"), r.out());
        assertTrue(r.out().contains("| copa | 6 | acc_norm |"), r.out());
        assertTrue(r.out().contains("| lambada_openai | 6 | perplexity |"), r.out());
        assertTrue(r.out().contains("Harness format: shears-eval/"), r.out());
        JsonNode report = Json.MAPPER.readTree(json.toFile());
        assertEquals(2, report.path("models").size());
        JsonNode a = report.path("models").get(0).path("results"), b = report.path("models").get(1).path("results");
        // the same weights in two formats score the same
        assertEquals(a.path("copa").path("acc").asDouble(), b.path("copa").path("acc").asDouble());
        assertEquals(a.path("tinystories").path("word_perplexity").asDouble(), b.path("tinystories").path("word_perplexity").asDouble(), 1e-3);
        assertTrue(a.path("copa").has("acc_stderr"));
        assertEquals(6, report.path("settings").path("limit").asInt());
        String html = Files.readString(tmp.resolve("eval.html"));
        assertEquals(3, html.split("<svg", -1).length - 1, "one chart per task");
        Run plain = shears("eval", dir.resolve("hf").toString(), "--tokenizer", dir.resolve("tok512.bin").toString(), "--tasks", "copa", "--limit", "2",
                "--data-dir", data.toString());
        assertTrue(plain.out().contains("| copa | 2 | acc |"), "the table reaches stdout without --json too: " + plain.out());
    }

    @Test
    void benchEvalRunsEitherBatching() {
        Path dir = SharedData.require("models/stories260K");
        String data = SharedData.require("eval").toString();
        for (String batching : new String[] {"packed", "per-item"}) {
            Run r = shears("bench", "eval", dir.resolve("stories260K.bin").toString(), "--tokenizer", dir.resolve("tok512.bin").toString(),
                    "--task", "hellaswag", "--limit", "3", "--warmup", "1", "--batch", "2", "--batching", batching, "--data-dir", data, "--json");
            assertEquals(0, r.code(), r.err());
            assertEquals(batching, r.json().path("batching").asText());
            assertEquals(3, r.json().path("items").asInt());
        }
        Run bad = shears("bench", "eval", dir.resolve("stories260K.bin").toString(), "--batching", "sideways");
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("packed, per-item"), bad.err());
    }

    @Test
    void evalErrorsNameThePathAndTheLine(@TempDir Path tmp) throws IOException {
        Path model = SharedData.require("models/stories260K/stories260K.bin");
        Path tok = SharedData.require("models/stories260K/tok512.bin");
        Run missing = shears("eval", model.toString(), "--tokenizer", tok.toString(), "--tasks", "copa", "--data-dir", tmp.resolve("nowhere").toString());
        assertEquals(2, missing.code(), missing.err());
        assertTrue(missing.err().contains(tmp.resolve("nowhere").toString()), missing.err());

        Files.writeString(tmp.resolve("t.jsonl"), "{\"q\": \"a\", \"c\": [\"x\", \"y\"], \"g\": 0}\n{\"q\": 3}\n");
        Files.writeString(tmp.resolve("t.yaml"), "name: mine\nfile: t.jsonl\ncontext: \"{q}\"\nchoices: c\ngold: g\n");
        Run bad = shears("eval", model.toString(), "--tokenizer", tok.toString(), "--tasks", tmp.resolve("t.yaml").toString(), "--data-dir", tmp.toString());
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("t.jsonl:2: \"q\" must be a string"), bad.err());
        assertFalse(bad.err().contains("\tat "), bad.err());

        Run unknown = shears("eval", model.toString(), "--tasks", "piqq");
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().contains("unknown task \"piqq\""), unknown.err());
    }

    @Test
    void dataPrepareThenTrainFromScratchWithAReport(@TempDir Path tmp) throws IOException {
        Path tok = SharedData.require("models/stories260K/tok512.bin");
        Path text = SharedData.require("eval/tinystories/tinystories_val_head.txt");
        Run prepared = shears("data", "prepare", "--tokenizer", tok.toString(), "--out", tmp.resolve("ts").toString(), text.toString(), "--json");
        assertEquals(0, prepared.code(), prepared.err());
        assertTrue(prepared.json().path("trainTokens").asLong() > 100_000);
        Run trained = shears("train", "--init", SharedData.require("models/stories260K/hf/config.json").toString(), "--data", tmp.resolve("ts").toString(),
                "--out", tmp.resolve("run").toString(), "--steps", "6", "--batch", "2", "--seq", "32", "--set", "evalInterval=3", "--json");
        assertEquals(0, trained.code(), trained.err());
        assertEquals(6, trained.json().path("steps").asInt());
        assertTrue(Files.readString(tmp.resolve("run/report.html")).contains("<svg"), "a report with its charts");
        assertTrue(Files.isRegularFile(tmp.resolve("run/tokenizer.bin")) && Files.isRegularFile(tmp.resolve("run/model.safetensors")));
    }
}
