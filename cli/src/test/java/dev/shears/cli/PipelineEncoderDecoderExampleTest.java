package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shears.SharedData;
import dev.shears.seq2seq.OpenBaConfig;
import dev.shears.seq2seq.OpenBaModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.shears.cli.CliTest.shears;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code examples/openba-v2-encdec.yaml} as its header says to run it: {@code shears init} of the example's OpenBA config with T5's
 * tokenizer, {@code pipeline check} of the example as written, and {@code pipeline run} of a copy scaled down to a few steps and
 * windows, end to end through the command line: layers, heal, neurons, heal, vocabulary, heal, eval, with its report.
 */
class PipelineEncoderDecoderExampleTest {
    static final Path EXAMPLES = Path.of("..", "examples").toAbsolutePath().normalize();

    @TempDir
    Path tmp;

    @Test
    void theOpenBaV2ExampleChecksAndRunsOnAModelMadeByInit() throws Exception {
        Path model = tmp.resolve("openba-tiny");
        CliTest.Run init = shears("init", "--config", EXAMPLES.resolve("openba-tiny-config.json").toString(), "--dtype", "f32",
                "--tokenizer", SharedData.require("tokenizers/t5").toString(), "--out", model.toString(), "--json");
        assertEquals(0, init.code(), init.err());
        assertTrue(init.json().path("shape").asText().startsWith("OpenBA 2+6 layers"), init.out());
        assertEquals(OpenBaModel.load(model).parameterCount(), init.json().path("params").asLong());

        // the example as written, its model and data paths pointing where they are here
        String example = Files.readString(EXAMPLES.resolve("openba-v2-encdec.yaml"))
                .replace("model: ../runs/openba-tiny", "model: " + model)
                .replace("../../shared/data", SharedData.root().toString());
        Path asWritten = Files.writeString(tmp.resolve("openba-v2-encdec.yaml"), example);
        CliTest.Run check = shears("pipeline", "check", asWritten.toString());
        assertEquals(0, check.code(), check.err());
        assertTrue(check.out().contains("7 stages, valid"), check.out());
        assertTrue(check.out().contains("01-layers") && check.out().contains("OpenBA 2+4 layers"), check.out());
        assertTrue(check.out().contains("03-neurons") && check.out().contains("ffn 128"), "equal counts: half of every layer's 256: " + check.out());

        Path scaled = Files.writeString(tmp.resolve("scaled.yaml"), scaledDown(example));
        Path out = tmp.resolve("run");
        CliTest.Run run = shears("pipeline", "run", scaled.toString(), "--out", out.toString(), "--json");
        assertEquals(0, run.code(), run.err());
        OpenBaConfig last = OpenBaModel.load(out.resolve("06-heal-vocabulary")).config();
        assertEquals(2, last.encoder().size());
        assertEquals(4, last.decoder().size());
        for (OpenBaConfig.Block b : last.decoder()) assertEquals(128, b.ffnDim());
        assertTrue(last.vocabSize() < 32128 / 2, "the vocabulary was cut: " + last.vocabSize());
        JsonNode report = Json.MAPPER.readTree(Files.readString(out.resolve("report.json")));
        assertEquals(7, report.path("stages").size());
        assertEquals("openba-v2", Json.MAPPER.readTree(Files.readString(out.resolve("02-heal-layers/train-config.json"))).path("objective").asText());
        String markdown = Files.readString(out.resolve("report.md"));
        assertTrue(markdown.contains("| 2+4 |"), "the report gives both stacks' depth: " + markdown);
        assertTrue(Files.readString(out.resolve("report.html")).contains("sciq"), "the eval stage's scores are in the report");

        // the finished run resumed: every stage skipped
        CliTest.Run resumed = shears("pipeline", "run", scaled.toString(), "--out", out.toString(), "--resume");
        assertEquals(0, resumed.code(), resumed.err());
        assertEquals(7, resumed.out().lines().filter(l -> l.contains("[done earlier]")).count(), resumed.out());
    }

    @Test
    void severalSeedsOfAnEncoderDecoderPipelineReportEachStagesSpread() throws Exception {
        Path model = tmp.resolve("openba-tiny");
        assertEquals(0, shears("init", "--config", EXAMPLES.resolve("openba-tiny-config.json").toString(), "--dtype", "f32",
                "--tokenizer", SharedData.require("tokenizers/t5").toString(), "--out", model.toString()).code());
        Path text = Files.writeString(tmp.resolve("ts.txt"), Files.readString(SharedData.require("eval/tinystories/tinystories_val_head.txt")).substring(0, 40_000));
        Path yaml = Files.writeString(tmp.resolve("seeds.yaml"), "model: " + model + "\nstages:\n"
                + "  - name: layers\n    prune: {decLayers: 4, importance: random}\n"
                + "  - name: heal\n    train: {data: [{path: " + text + ", weight: 1}], objective: ul2, dynamic: true, steps: 2, batchSize: 2, seqLen: 32,"
                + " evalInterval: 1, evalWindows: 2, warmupSteps: 1}\n");
        Path out = tmp.resolve("seeds");
        CliTest.Run r = shears("pipeline", "run", yaml.toString(), "--out", out.toString(), "--seeds", "1,2", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode loss = r.json().path("stages").path("02-heal").path("lastLoss");
        assertEquals(2, loss.path("values").size(), r.out());
        assertTrue(loss.path("std").asDouble() > 0, "different seeds, different batches: " + loss);
        assertTrue(Files.isRegularFile(out.resolve("seed-2/report.html")));
        assertTrue(Files.readString(out.resolve("seeds.md")).contains("| 02-heal | lastLoss |"), Files.readString(out.resolve("seeds.md")));
    }

    /** The example with a few steps, windows and items: the same stages and shapes in seconds. */
    static String scaledDown(String example) {
        String s = example;
        for (String[] r : new String[][] {{"steps", "2"}, {"batchSize", "2"}, {"seqLen", "32"}, {"samples", "4"}, {"evalInterval", "1"},
                {"evalWindows", "2"}, {"warmupSteps", "1"}, {"limit", "2"}}) {
            s = Pattern.compile("\\b" + r[0] + ": \\d+").matcher(s).replaceAll(Matcher.quoteReplacement(r[0] + ": " + r[1]));
        }
        return s;
    }
}
