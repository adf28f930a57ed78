package dev.shears.recipe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.SharedData;
import dev.shears.ShearsException;
import dev.shears.io.DType;
import dev.shears.progress.Progress;
import dev.shears.seq2seq.EncoderDecoder;
import dev.shears.seq2seq.EncoderDecoderTarget;
import dev.shears.seq2seq.OpenBaConfig;
import dev.shears.seq2seq.OpenBaModel;
import dev.shears.seq2seq.T5Config;
import dev.shears.seq2seq.T5Model;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pipelines of an encoder–decoder: a tiny OpenBA and a tiny T5 made by {@code shears init} at test time go through prune →
 * train (denoisers) → prune (vocabulary) → eval → export, and through a shear stage (learned gates to the exact target
 * shape {@code pipeline check} foresaw); a pipeline killed in its train or shear stage resumes to the same bits; problems are
 * reported with their YAML path before any work.
 */
class PipelineEncoderDecoderTest {
    static final String OPENBA = """
            {"architectures": ["OpenBAForConditionalGeneration"], "model_type": "openba", "hidden_size": 16, "kv_channels": 4, "num_heads": 4,
             "ffn_hidden_size": 384, "num_layers": 2, "num_decoder_layers": 4, "vocab_size": 32128, "add_qkv_bias": true,
             "tie_word_embeddings": true, "max_seq_length": 128, "decoder_max_seq_length": 128,
             "decoder_start_token_id": 0, "pad_token_id": 0, "eos_token_id": 1}
            """;
    static final String T5 = """
            {"architectures": ["T5ForConditionalGeneration"], "model_type": "t5", "d_model": 16, "d_kv": 4, "num_heads": 4, "d_ff": 32,
             "num_layers": 2, "num_decoder_layers": 3, "vocab_size": 32128, "feed_forward_proj": "gated-gelu", "tie_word_embeddings": false,
             "relative_attention_num_buckets": 8, "decoder_start_token_id": 0, "pad_token_id": 0, "eos_token_id": 1}
            """;

    @TempDir
    static Path dir;
    static Path openBa, t5, text;

    @BeforeAll
    static void models() throws Exception {
        openBa = InitEncoderDecoderTest.init(dir, "openba", OPENBA, 5, DType.F32);
        t5 = InitEncoderDecoderTest.init(dir, "t5", T5, 6, DType.F32);
        // the first stories of TinyStories: a text file every train stage tokenizes with its model's tokenizer
        String stories = Files.readString(SharedData.require("eval/tinystories/tinystories_val_head.txt"));
        text = Files.writeString(dir.resolve("ts.txt"), stories.substring(0, 40_000));
    }

    static Path pipeline(String name, Path model, String stages) throws IOException {
        String tokenizer = EncoderDecoder.describes(model) ? "" : "tokenizer: " + SharedData.require("models/stories260K/tok512.bin") + "\n";
        return Files.writeString(dir.resolve(name), "model: " + model + "\n" + tokenizer + "stages:\n" + stages);
    }

    static String stages(String objective, String export) {
        return """
                  - name: depth
                    prune: {decLayers: 2, heads: 0.5}
                  - name: heal
                    train: {data: [{path: ts.txt, weight: 1}], OBJECTIVE, steps: 4, batchSize: 2, seqLen: 32, lr: 1.0e-3, warmupSteps: 1,
                            evalInterval: 2, evalWindows: 2, checkpointInterval: 2}
                  - name: vocabulary
                    prune: {vocab: 0.9, vocabCorpus: ts.txt}
                  - name: eval
                    eval: {tasks: [tinystories], dataDir: DATA, limit: 2}
                  - name: export
                    export: {format: FORMAT}
                """.replace("OBJECTIVE", objective).replace("DATA", SharedData.require("eval").toString()).replace("FORMAT", export);
    }

    @Test
    void anOpenBaGoesThroughPruneTrainVocabularyEvalAndExportAndAKilledRunResumesToTheSameBits() throws IOException {
        Pipeline.Plan plan = Pipeline.load(pipeline("openba.yaml", openBa, stages("objective: openba-v2, dynamic: true", "hf")));
        OpenBaConfig depth = (OpenBaConfig) assertInstanceOf(ModelShape.Seq2Seq.class, plan.shapes().getFirst()).config();
        assertEquals(2, depth.encoder().size());
        assertEquals(2, depth.decoder().size());
        assertEquals(new OpenBaConfig.Block(2, 2, 256), depth.decoder().getFirst(), "half of 4 heads of each kind");
        assertEquals("2+2", plan.shapes().getLast().layers());
        assertEquals(new TrainStage.Denoising(Seq2SeqTrainRun.Objective.OPENBA_V2, true), ((TrainStage) plan.stages().get(1).settings()).denoising().orElseThrow());

        Path straight = dir.resolve("openba-run");
        List<Pipeline.StageResult> results = Pipeline.run(plan, straight, false, Progress.SILENT, m -> { }, r -> { });
        assertEquals(5, results.size());
        OpenBaModel healed = OpenBaModel.load(straight.resolve("02-heal"));
        assertEquals(depth, healed.config());
        JsonNode trainConfig = new ObjectMapper().readTree(Files.readString(straight.resolve("02-heal").resolve(TrainRun.CONFIG)));
        assertEquals("openba-v2", trainConfig.path("objective").asText(), trainConfig.toString());
        assertTrue(trainConfig.path("dynamic").asBoolean(), trainConfig.toString());
        StageSummary.Trained trained = assertInstanceOf(StageSummary.Trained.class, results.get(1).summary().outcome());
        assertEquals(4, trained.steps());
        assertFalse(trained.heldOutLoss().isEmpty(), "a held-out loss per denoiser");

        OpenBaModel small = OpenBaModel.load(straight.resolve("03-vocabulary"));
        assertTrue(small.vocabSize() < 32128 / 2, "the vocabulary was cut to " + small.vocabSize());
        assertTrue(Files.isRegularFile(straight.resolve("03-vocabulary/spiece.model")), "the pruned tokenizer travels with the model");
        StageSummary.Evaluated eval = assertInstanceOf(StageSummary.Evaluated.class, results.get(3).summary().outcome());
        assertTrue(eval.metrics().containsKey("tinystories"), eval.metrics().toString());
        assertEquals(small.config(), OpenBaModel.load(straight.resolve("05-export/hf")).config());
        assertEquals(small.config(), ((ModelShape.Seq2Seq) results.getLast().shape()).config());

        // killed after the heal stage's step-2 checkpoint: --resume skips the prune, continues the training, and ends with the same bits
        Path crashed = dir.resolve("openba-crashed");
        assertThrows(IllegalStateException.class, () -> Pipeline.run(plan, crashed, false, killedAtStep(3), m -> { }, r -> { }));
        assertTrue(Files.isRegularFile(crashed.resolve("01-depth").resolve(Pipeline.DONE)));
        assertFalse(Files.exists(crashed.resolve("02-heal").resolve(Pipeline.DONE)));
        List<Pipeline.StageResult> resumed = Pipeline.run(plan, crashed, true, Progress.SILENT, m -> { }, r -> { });
        assertTrue(resumed.getFirst().skipped());
        assertEquals(2, ((StageSummary.Trained) resumed.get(1).summary().outcome()).resumedFrom());
        for (String stage : List.of("02-heal", "03-vocabulary", "05-export/hf")) {
            assertArrayEquals(Files.readAllBytes(straight.resolve(stage).resolve("model.safetensors")),
                    Files.readAllBytes(crashed.resolve(stage).resolve("model.safetensors")), stage);
        }
        assertEquals(eval.metrics(), ((StageSummary.Evaluated) resumed.get(3).summary().outcome()).metrics());

        // a finished pipeline resumed again skips every stage and reports the shapes it had
        List<Pipeline.StageResult> again = Pipeline.run(plan, crashed, true, Progress.SILENT, m -> { }, r -> { });
        assertTrue(again.stream().allMatch(Pipeline.StageResult::skipped));
        assertEquals(results.stream().map(r -> r.shape().describe()).toList(), again.stream().map(r -> r.shape().describe()).toList());
    }

    @Test
    void aT5GoesThroughTheSameStagesWithTheT5Objective() throws IOException {
        Pipeline.Plan plan = Pipeline.load(pipeline("t5.yaml", t5, stages("objective: t5", "hf")));
        Path out = dir.resolve("t5-run");
        List<Pipeline.StageResult> results = Pipeline.run(plan, out, false, Progress.SILENT, m -> { }, r -> { });
        T5Config depth = T5Model.load(out.resolve("01-depth")).config();
        assertEquals(2, depth.decoder().size());
        assertEquals(2, depth.decoder().getLast().numHeads());
        // the simulation foresees the widths (which heads stay, and so their bias columns, is the criterion's choice at run time)
        assertEquals(plan.shapes().getFirst().describe(), depth.describe());
        assertEquals(plan.shapes().getFirst().parameterCount(), depth.parameterCount());
        assertTrue(Files.readString(out.resolve("02-heal").resolve(TrainRun.CONFIG)).contains("\"t5\""));
        T5Model exported = T5Model.load(out.resolve("05-export/hf"));
        assertEquals(T5Model.load(out.resolve("03-vocabulary")).config(), exported.config());
        EncoderDecoder loaded = EncoderDecoder.load(out.resolve("05-export/hf")).orElseThrow();
        for (float v : loaded.logits(new int[]{5, 6, 7}, new int[]{8, 9})) assertTrue(Float.isFinite(v));
        assertTrue(((StageSummary.Evaluated) results.get(3).summary().outcome()).metrics().containsKey("tinystories"));

        // as many layers in each stack, every head kept and one FFN width: a shape llama.cpp's t5 loads, exported as GGUF
        Path ggufOut = dir.resolve("t5-gguf");
        List<Pipeline.StageResult> gguf = Pipeline.run(Pipeline.load(pipeline("t5-gguf.yaml", t5,
                "  - prune: {decLayers: 2, ffn: 0.5}\n  - export: {format: gguf, dtype: q8_0}\n")), ggufOut, false, Progress.SILENT, m -> { }, r -> { });
        StageSummary.Exported written = assertInstanceOf(StageSummary.Exported.class, gguf.getLast().summary().outcome());
        assertTrue(Files.size(written.written()) > 0, written.toString());

        // another seed changes the training and keeps the shapes
        List<Pipeline.StageResult> seeded = Pipeline.run(SeedSweep.withSeed(plan, 9), dir.resolve("t5-seed-9"), false, Progress.SILENT, m -> { }, r -> { });
        assertEquals(results.stream().map(r -> r.shape().describe()).toList(), seeded.stream().map(r -> r.shape().describe()).toList());
        assertNotEquals(((StageSummary.Trained) results.get(1).summary().outcome()).lastLoss(), ((StageSummary.Trained) seeded.get(1).summary().outcome()).lastLoss());
        assertTrue(SeedSweep.summarise(List.of(results, seeded)).get("02-heal").containsKey("lastLoss"));
    }

    @Test
    void encoderDecoderProblemsAreReportedWithTheirYamlPathBeforeAnyWork() throws IOException {
        record Case(Path model, String stages, String expected) {
        }
        Path stories = SharedData.require("models/stories260K/hf");
        for (Case c : List.of(
                new Case(openBa, "  - prune: {decLayers: 9}\n", "stages[0].prune: --dec-layers 9 must keep 1..4 decoder layers (the model has OpenBA 2+4 layers"),
                new Case(openBa, "  - prune: {decLayers: 2}\n  - prune: {decLayers: 3}\n", "stages[1].prune: --dec-layers 3 must keep 1..2 decoder layers"),
                new Case(openBa, "  - prune: {layers: 0.5}\n", "stages[0].prune: layers (use encLayers and decLayers): not for an encoder-decoder"),
                new Case(openBa, "  - prune: {heads: 0.5, importance: taylor, taylor: vectorize}\n", "stages[0].prune: --taylor vectorize is not supported for an encoder-decoder"),
                new Case(openBa, "  - prune: {vocab: 0.5}\n", "stages[0].prune: vocabCorpus"),
                new Case(t5, "  - prune: {encLayers: 1, dropFfn: 1}\n", "stages[0].prune: dropFfn: not for an encoder-decoder"),
                new Case(t5, "  - train: {data: [{path: ts.txt, weight: 1}], objective: ul3}\n", "stages[0].train.objective: must be one of [ul2, t5, openba-v2]"),
                new Case(t5, "  - train: {data: [{path: ts.txt, weight: 1}], dynamic: yes please}\n", "stages[0].train.dynamic: true or false"),
                new Case(t5, "  - train: {data: [{path: ts.txt, weight: 1}], objectiv: t5}\n", "stages[0].train.objectiv: unknown key"),
                new Case(t5, "  - train: {data: [{path: ts.txt, weight: 1}, {path: ts.txt, weight: 1}]}\n", "stages[0].train: data: an encoder-decoder stage reads one"),
                new Case(t5, "  - distill: {data: [{path: ts.txt, weight: 1}], distill: {alpha: 1.0}}\n", "stages[0].distill: distillation is not implemented"),
                new Case(openBa, "  - export: {format: gguf}\n", "stages[0].export: format gguf: llama.cpp has no OpenBA"),
                new Case(t5, "  - prune: {decLayers: 2, heads: 0.5}\n  - export: {format: gguf}\n", "stages[1].export: format gguf: llama.cpp's t5 has one head count"),
                new Case(t5, "  - export: {format: gguf}\n", "stages[0].export: format gguf: llama.cpp's t5 has one block_count for both stacks"),
                new Case(stories, "  - train: {data: [{path: ts.txt, weight: 1}], objective: ul2}\n", "stages[0].train: objective and dynamic train an encoder-decoder"),
                new Case(stories, "  - prune: {decLayers: 2}\n", "stages[0].prune: encLayers and decLayers apply to an encoder-decoder"))) {
            Path file = pipeline("bad.yaml", c.model(), c.stages());
            ShearsException e = assertThrows(ShearsException.class, () -> Pipeline.load(file), c.stages());
            assertTrue(e.getMessage().contains("bad.yaml: " + c.expected()), c.expected() + " in: " + e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
        Path fromScratch = Files.writeString(dir.resolve("scratch.yaml"), "stages:\n  - train: {init: " + dir.resolve("openba-config.json")
                + ", data: [{path: ts.txt, weight: 1}]}\n");
        assertTrue(assertThrows(ShearsException.class, () -> Pipeline.load(fromScratch)).getMessage()
                .contains("scratch.yaml: stages[0].train.init: an encoder-decoder starts from a folder: make one with 'shears init --config openba-config.json"));
        Path tokenizer = Files.writeString(dir.resolve("tok.yaml"), "model: " + openBa + "\ntokenizer: " + SharedData.require("tokenizers/t5")
                + "\nstages:\n  - prune: {heads: 0.5}\n");
        assertTrue(assertThrows(ShearsException.class, () -> Pipeline.load(tokenizer)).getMessage().contains("tokenizer: an encoder-decoder folder carries its own"));
    }

    static final String SHEAR_TRAIN = "train: {data: [{path: ts.txt, weight: 1}], steps: 4, batchSize: 2, seqLen: 32, lr: 1.0e-3, warmupSteps: 1, "
            + "evalInterval: 2, evalWindows: 2, checkpointInterval: 2}";

    @Test
    void anOpenBaShearStageLandsOnTheExactTargetAndAKilledRunResumesToTheSameBits() throws IOException {
        Pipeline.Plan plan = Pipeline.load(pipeline("openba-shear.yaml", openBa, """
                  - name: shear
                    shear: {encLayers: 1, decLayers: 2, heads: 0.5, ffn: 0.5, hidden: 0.25, objective: openba-v2, dynamic: true, lagrangianWarmup: 0.5,
                            TRAIN}
                  - name: heal
                    train: {data: [{path: ts.txt, weight: 1}], objective: openba-v2, steps: 2, batchSize: 2, seqLen: 32, lr: 1.0e-3, warmupSteps: 1}
                """.replace("TRAIN", SHEAR_TRAIN)));
        OpenBaConfig parent = OpenBaModel.load(openBa).config();
        OpenBaConfig expected = (OpenBaConfig) assertInstanceOf(ModelShape.Seq2Seq.class, plan.shapes().getFirst()).config();
        assertEquals(1, expected.encoder().size());
        assertEquals(2, expected.decoder().size());
        assertEquals(EncoderDecoderTarget.kept(parent.dim(), 0.25), expected.dim());
        assertEquals(new OpenBaConfig.Block(2, 2, 128), expected.decoder().getFirst(), "half of 4 heads of each kind, half of 256 neurons");
        ShearConfig.EncoderDecoderShear e = ((ShearConfig) plan.stages().getFirst().settings()).encoderDecoder();
        assertEquals(Seq2SeqTrainRun.Objective.OPENBA_V2, e.denoisers());
        assertTrue(e.dynamicWeights());

        Path straight = dir.resolve("openba-shear-run");
        List<Pipeline.StageResult> results = Pipeline.run(plan, straight, false, Progress.SILENT, m -> { }, r -> { });
        OpenBaModel sheared = OpenBaModel.load(straight.resolve("01-shear"));
        assertEquals(expected, sheared.config(), "the exact target shape, as pipeline check foresaw it");
        assertEquals(expected, ((ModelShape.Seq2Seq) results.getFirst().shape()).config());
        assertEquals(expected, OpenBaModel.load(straight.resolve("02-heal")).config());
        StageSummary.Sheared summary = assertInstanceOf(StageSummary.Sheared.class, results.getFirst().summary().outcome());
        assertEquals(4, summary.steps());
        assertEquals(sheared.config().parameterCount(), summary.paramsAfter());
        assertTrue(summary.paramsAfter() < summary.paramsBefore());
        assertFalse(summary.heldOutLoss().isEmpty(), "a held-out loss per denoiser");
        JsonNode written = new ObjectMapper().readTree(Files.readString(straight.resolve("01-shear").resolve(ShearRun.CONFIG)));
        assertEquals("openba-v2", written.path("objective").asText(), written.toString());
        assertTrue(written.path("dynamic").asBoolean(), written.toString());
        assertTrue(Files.isRegularFile(straight.resolve("01-shear").resolve(ShearRun.GATES)));

        // killed after the shear stage's step-2 checkpoint: --resume continues the gates and weights and ends with the same bits
        Path crashed = dir.resolve("openba-shear-crashed");
        assertThrows(IllegalStateException.class, () -> Pipeline.run(plan, crashed, false, killedAtStep(3), m -> { }, r -> { }));
        assertFalse(Files.exists(crashed.resolve("01-shear").resolve(Pipeline.DONE)));
        List<Pipeline.StageResult> resumed = Pipeline.run(plan, crashed, true, Progress.SILENT, m -> { }, r -> { });
        assertEquals(2, ((StageSummary.Sheared) resumed.getFirst().summary().outcome()).resumedFrom());
        for (String stage : List.of("01-shear", "02-heal")) {
            assertArrayEquals(Files.readAllBytes(straight.resolve(stage).resolve("model.safetensors")),
                    Files.readAllBytes(crashed.resolve(stage).resolve("model.safetensors")), stage);
        }
        assertArrayEquals(Files.readAllBytes(straight.resolve("01-shear").resolve(ShearRun.GATES)),
                Files.readAllBytes(crashed.resolve("01-shear").resolve(ShearRun.GATES)));
    }

    @Test
    void aT5ShearStageLandsOnTheExactTargetAndASeedChangesItsGatesNotItsShape() throws IOException {
        Pipeline.Plan plan = Pipeline.load(pipeline("t5-shear.yaml", t5, """
                  - name: shear
                    shear: {decLayers: 2, heads: 0.5, ffn: 0.5, objective: t5, TRAIN}
                  - name: eval
                    eval: {tasks: [tinystories], dataDir: DATA, limit: 2}
                """.replace("TRAIN", SHEAR_TRAIN).replace("DATA", SharedData.require("eval").toString())));
        Path out = dir.resolve("t5-shear-run");
        List<Pipeline.StageResult> results = Pipeline.run(plan, out, false, Progress.SILENT, m -> { }, r -> { });
        T5Config sheared = T5Model.load(out.resolve("01-shear")).config();
        assertEquals(2, sheared.encoder().size());
        assertEquals(2, sheared.decoder().size());
        for (T5Config.Block b : sheared.decoder()) {
            assertEquals(2, b.numHeads());
            assertEquals(16, b.ffnDim());
        }
        assertEquals(plan.shapes().getFirst().describe(), sheared.describe());
        assertEquals(plan.shapes().getFirst().parameterCount(), sheared.parameterCount());
        assertTrue(Files.readString(out.resolve("01-shear").resolve(ShearRun.CONFIG)).contains("\"t5\""));
        assertTrue(((StageSummary.Evaluated) results.get(1).summary().outcome()).metrics().containsKey("tinystories"));

        List<Pipeline.StageResult> seeded = Pipeline.run(SeedSweep.withSeed(plan, 9), dir.resolve("t5-shear-seed-9"), false, Progress.SILENT, m -> { }, r -> { });
        assertEquals(results.stream().map(r -> r.shape().describe()).toList(), seeded.stream().map(r -> r.shape().describe()).toList());
        assertNotEquals(((StageSummary.Sheared) results.getFirst().summary().outcome()).lastLoss(),
                ((StageSummary.Sheared) seeded.getFirst().summary().outcome()).lastLoss());
        assertTrue(SeedSweep.summarise(List.of(results, seeded)).get("01-shear").containsKey("lastLoss"));
    }

    @Test
    void shearStageProblemsAreReportedWithTheirYamlPathBeforeAnyWork() throws IOException {
        record Case(Path model, String shear, String expected) {
        }
        Path stories = SharedData.require("models/stories260K/hf");
        String data = "train: {data: [{path: ts.txt, weight: 1}]}";
        for (Case c : List.of(
                new Case(t5, "{target: \"heads=2\", " + data + "}", "stages[0].shear: target: not for an encoder-decoder"),
                new Case(openBa, "{heads: 0.5, targetConfig: " + dir.resolve("openba-config.json") + ", " + data + "}",
                        "stages[0].shear: targetConfig: not for an encoder-decoder"),
                new Case(openBa, "{heads: 0.5, layerGates: SUB_LAYERS, " + data + "}", "stages[0].shear: layerGates: sub-layers: not for an encoder-decoder"),
                new Case(openBa, "{decLayers: 9, " + data + "}", "stages[0].shear: --dec-layers 9 must keep 1..4 decoder layers (the model has OpenBA 2+4 layers"),
                new Case(openBa, "{" + data + "}", "stages[0].shear: nothing to shear: give heads, ffn, hidden, encLayers or decLayers"),
                new Case(t5, "{heads: 1.5, " + data + "}", "stages[0].shear: --heads must be a fraction to remove in [0, 1)"),
                new Case(t5, "{heads: 0.5, objective: ul3, " + data + "}", "stages[0].shear: objective: must be one of [ul2, t5, openba-v2]"),
                new Case(t5, "{heads: 0.5, dynamic: yes please, " + data + "}", "stages[0].shear.dynamic: "),
                new Case(t5, "{heads: 0.5, train: {data: [{path: ts.txt, weight: 1}, {path: ts.txt, weight: 1}]}}",
                        "stages[0].shear: train.data: an encoder-decoder stage reads one"),
                new Case(stories, "{target: \"layers=2\", heads: 0.5, objective: t5, " + data + "}",
                        "stages[0].shear: heads, objective: shear an encoder-decoder (T5 or OpenBA)"),
                new Case(stories, "{" + data + "}", "stages[0].shear: give exactly one of target or targetConfig"))) {
            Path file = pipeline("bad.yaml", c.model(), "  - shear: " + c.shear() + "\n");
            ShearsException e = assertThrows(ShearsException.class, () -> Pipeline.load(file), c.shear());
            assertTrue(e.getMessage().contains("bad.yaml: " + c.expected()), c.expected() + " in: " + e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
        // a shear stage meets the shape an earlier prune left
        Path later = pipeline("bad.yaml", openBa, "  - prune: {decLayers: 2}\n  - shear: {decLayers: 3, " + data + "}\n");
        assertTrue(assertThrows(ShearsException.class, () -> Pipeline.load(later)).getMessage()
                .contains("bad.yaml: stages[1].shear: --dec-layers 3 must keep 1..2 decoder layers"));
    }

    /** A progress that throws once the training has logged {@code step}: a run killed after that step. */
    static Progress killedAtStep(int step) {
        return new Progress() {
            @Override
            public void start(String task, long total, String unit) {
            }

            @Override
            public void advance(long amount) {
            }

            @Override
            public void status(String text) {
                if (text.startsWith("step " + step + "/")) throw new IllegalStateException("killed");
            }

            @Override
            public void finish() {
            }
        };
    }
}
