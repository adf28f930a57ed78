package dev.shears.recipe;

import dev.shears.SharedData;
import dev.shears.ShearsException;
import dev.shears.data.DataPreparer;
import dev.shears.data.PrepareOptions;
import dev.shears.format.TokenizerLoader;
import dev.shears.format.hf.HfModel;
import dev.shears.model.Model;
import dev.shears.progress.Progress;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Multi-stage pipelines on the real stories260K: validation with YAML paths, stage outputs, resume. */
class PipelineTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void data() {
        Path tok = SharedData.require("models/stories260K/tok512.bin");
        DataPreparer.prepare(TokenizerLoader.load(tok), tok.toString(), List.of(SharedData.require("eval/tinystories/tinystories_val_head.txt")),
                dir.resolve("ts"), PrepareOptions.DEFAULT, Progress.SILENT);
    }

    static Path pipeline(String name, String stages) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, "model: " + SharedData.require("models/stories260K/hf") + "\ntokenizer: " + SharedData.require("models/stories260K/tok512.bin")
                + "\nstages:\n" + stages);
        return file;
    }

    static final String TWO_STAGES = """
              - name: drop
                prune: {dropLayers: [2]}
              - name: heal
                train: {data: [{path: ts, weight: 1}], steps: 8, batchSize: 2, seqLen: 32, evalInterval: 4, checkpointInterval: 3, evalWindows: 2}
              - name: narrow
                prune: {ffn: 0.5, importance: magnitude}
            """;

    @Test
    void stagesChainAndAKilledPipelineResumesToTheSameModel() throws IOException {
        Pipeline.Plan plan = Pipeline.load(pipeline("p.yaml", TWO_STAGES));
        assertEquals(List.of(4, 4, 4), plan.shapes().stream().map(s -> s.numLayers()).toList());
        assertEquals(86, ((ModelShape.Decoder) plan.shapes().get(2)).config().layer(0).ffnDim());

        Path straight = dir.resolve("straight");
        List<Pipeline.StageResult> results = Pipeline.run(plan, straight, false, Progress.SILENT, m -> { }, r -> { });
        assertEquals(3, results.size());
        assertEquals(86, HfModel.read(straight.resolve("03-narrow")).config().layer(0).ffnDim());
        assertTrue(Files.isRegularFile(straight.resolve("03-narrow/tokenizer.bin")), "the tokenizer travels through the stages");

        Path crashed = dir.resolve("crashed");
        long crashAt = 6L * 2 * 32;
        assertThrows(IllegalStateException.class, () -> Pipeline.run(plan, crashed, false, new Progress() {
            long done;

            @Override
            public void start(String task, long total, String unit) {
            }

            @Override
            public void advance(long amount) {
                if (unitIsTokens && (done += amount) >= crashAt) throw new IllegalStateException("killed");
            }

            boolean unitIsTokens;

            @Override
            public void status(String text) {
                unitIsTokens = text.startsWith("step");
            }

            @Override
            public void finish() {
            }
        }, m -> { }, r -> { }));
        assertTrue(Files.isRegularFile(crashed.resolve("01-drop").resolve(Pipeline.DONE)));
        assertFalse(Files.exists(crashed.resolve("02-heal").resolve(Pipeline.DONE)));
        List<String> log = new java.util.ArrayList<>();
        List<Pipeline.StageResult> resumed = Pipeline.run(plan, crashed, true, Progress.SILENT, log::add, r -> { });
        assertTrue(resumed.getFirst().skipped());
        Model a = HfModel.read(straight.resolve("03-narrow")), b = HfModel.read(crashed.resolve("03-narrow"));
        a.weights().forEach((role, layer, v) -> assertArrayEquals(v, b.weights().get(role, layer), role + " " + layer));
    }

    @Test
    void aDistillStageLearnsFromTheParentByDefault() throws IOException {
        Path file = pipeline("d.yaml", """
                  - name: drop
                    prune: {dropLayers: [1]}
                  - name: distil
                    distill: {data: [{path: ts, weight: 1}], steps: 3, batchSize: 2, seqLen: 32, evalInterval: 3, evalWindows: 1, distill: {alpha: 1.0, temperature: 1.0}}
                """);
        Path out = dir.resolve("distilled");
        List<Pipeline.StageResult> results = Pipeline.run(Pipeline.load(file), out, false, Progress.SILENT, m -> { }, r -> { });
        assertEquals("distill", results.get(1).stage().kind());
        String resolved = Files.readString(out.resolve("02-distil").resolve(TrainRun.CONFIG));
        assertTrue(resolved.contains(SharedData.require("models/stories260K/hf").toString()), "the teacher is the pipeline's parent: " + resolved);
        StageSummary.Trained trained = assertInstanceOf(StageSummary.Trained.class, results.get(1).summary().outcome());
        assertTrue(trained.lastLoss() > 0);
        // the stage record reads back as it was written (a resumed pipeline skips the stage with it)
        Path record = out.resolve("02-distil").resolve(Pipeline.DONE);
        StageSummary reread = StageSummary.fromJson(new com.fasterxml.jackson.databind.ObjectMapper().readTree(Files.readString(record)), record);
        assertEquals(results.get(1).summary(), reread);
        assertTrue(Files.readString(record).contains("\"lastLoss\""), "the outcome's keys stand beside the common ones");
    }

    @Test
    void resumingAnEditedPipelineRefusesNamingTheStagesThatRanOtherwise() throws IOException {
        Path out = dir.resolve("edited");
        Pipeline.run(Pipeline.load(pipeline("e.yaml", "  - name: drop\n    prune: {dropLayers: [2]}\n")), out, false, Progress.SILENT, m -> { }, r -> { });
        // unchanged: the finished stage is skipped
        List<Pipeline.StageResult> again = Pipeline.run(Pipeline.load(pipeline("e.yaml", "  - name: drop\n    prune: {dropLayers: [2]}\n")), out, true,
                Progress.SILENT, m -> { }, r -> { });
        assertTrue(again.getFirst().skipped());
        String before = Files.readString(out.resolve(Pipeline.RECORD));
        ShearsException e = assertThrows(ShearsException.class, () -> Pipeline.run(Pipeline.load(pipeline("e.yaml",
                "  - name: drop\n    prune: {dropLayers: [1]}\n")), out, true, Progress.SILENT, m -> { }, r -> { }));
        assertTrue(e.getMessage().contains("[01-drop] ran with other settings"), e.getMessage());
        assertEquals(before, Files.readString(out.resolve(Pipeline.RECORD)), "the record still says what was run");
    }

    /**
     * A train stage's record holds its settings. It held only the distill group (the stage is written as its
     * TrainConfig, whose groups were flattened against the stage's own components), so an edited train stage
     * resumed unnoticed and pipeline.json did not say what a train stage ran with.
     */
    @Test
    void aTrainStagesRecordHoldsItsSettings() {
        com.fasterxml.jackson.databind.JsonNode t = dev.shears.config.ConfigLoader.toTree(new TrainStage(dev.shears.train.TrainConfig.DEFAULT, false));
        assertEquals(dev.shears.train.TrainConfig.DEFAULT.schedule().steps(), t.path("steps").asLong(), t.toString());
        for (String key : List.of("data", "batchSize", "seed", "lr", "warmupSteps", "beta1", "evalInterval", "checkpointInterval", "dynamicBatchLoading",
                "distill")) {
            assertTrue(t.has(key), key + " in " + t);
        }
        assertEquals(dev.shears.config.ConfigLoader.toTree(dev.shears.train.TrainConfig.DEFAULT), t);
    }

    @Test
    void problemsAreReportedWithTheirYamlPathBeforeAnyWork() throws IOException {
        record Case(String stages, String expected) {
        }
        for (Case c : List.of(
                new Case("  - prune: {fnn: 0.5}\n", "stages[0].prune.fnn"),
                new Case("  - prune: {ffn: 0.5}\n  - prune: {target: \"layers=9\"}\n", "stages[1].prune"),
                new Case("  - train: {data: [{path: nowhere, weight: 1}]}\n", "stages[0].train.data[0].path"),
                new Case("  - train: {data: [{path: ts, weight: 1}], lr: fast}\n", "stages[0].train.lr"),
                new Case("  - squeeze: {}\n", "stages[0]"),
                new Case("  - prune: {heads: 0.5}\n  - prune: {target: \"heads=8,kv-heads=4\"}\n", "stages[1].prune"),
                new Case("  - distill: {data: [{path: ts, weight: 1}], distill: {alpha: 0.0}}\n", "stages[0].distill.distill.alpha"),
                new Case("  - eval: {tasks: [no_such_task], dataDir: .}\n", "stages[0].eval"),
                new Case("  - export: {format: onnx}\n", "stages[0].export"),
                // issue 13: accepted by `pipeline check`, then failed mid-run after earlier stages did work
                new Case("  - prune: {ffn: 0.5}\n  - prune: {ffn: 0.5, calibration: missing.txt}\n", "stages[1].prune: calibration"),
                new Case("  - prune: {ffn: 0.5, calibration: ts, seqLen: 2000000000}\n", "stages[0].prune"),
                new Case("  - name: \"\"\n    prune: {ffn: 0.5}\n", "stages[0].name"),
                new Case("  - name: \"a\\0b\"\n    prune: {ffn: 0.5}\n", "stages[0].name"))) {
            Path file = pipeline("bad.yaml", c.stages());
            ShearsException e = assertThrows(ShearsException.class, () -> Pipeline.load(file), c.stages());
            assertTrue(e.getMessage().contains(c.expected()), c.expected() + " in: " + e.getMessage());
        }
        Path noTokenizer = dir.resolve("no-tokenizer.yaml");
        Files.writeString(noTokenizer, "model: " + SharedData.require("models/stories260K/hf") + "\ntokenizer: gone.bin\nstages:\n  - prune: {ffn: 0.5}\n");
        assertTrue(assertThrows(ShearsException.class, () -> Pipeline.load(noTokenizer)).getMessage().contains("tokenizer"));
        Path broken = pipeline("broken.yaml", "  - prune: {ffn: 0.5\n");
        ShearsException syntax = assertThrows(ShearsException.class, () -> Pipeline.load(broken));
        assertTrue(syntax.getMessage().contains("broken.yaml") && syntax.getMessage().contains("(line ") && !syntax.getMessage().contains("\n"),
                "a YAML syntax error is one line with its position: " + syntax.getMessage());
    }
}
