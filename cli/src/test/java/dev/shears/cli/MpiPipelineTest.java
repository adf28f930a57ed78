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
 * Issue 17: {@code shears pipeline run} under {@code mpirun -np 2} and {@code -np 3}: a prune stage (calibration windows
 * shared), a train stage (three micro-batches per step shared: uneven over 2 ranks) and an eval stage (items shared) end
 * with stage folders whose models, plans, checkpoints and scores are byte-identical to one process's, settings and stage
 * records identical but for the output folder's own name in their paths, and metrics identical apart from timings; and the
 * same for an encoder-decoder pipeline (issue 16).
 */
class MpiPipelineTest {
    @TempDir
    static Path dir;

    @Test
    void aPruneTrainEvalPipelineOnTwoAndThreeRanksRunsAsOneProcess() throws Exception {
        Path models = SharedData.require("models/stories260K");
        Path text = SharedData.require("eval/tinystories/tinystories_val_head.txt");
        Path file = dir.resolve("p.yaml");
        Files.writeString(file, "model: " + models.resolve("hf") + "\ntokenizer: " + models.resolve("tok512.bin") + "\nstages:\n"
                + "  - name: narrow\n    prune: {ffn: 0.5, importance: activation, calibration: " + text + ", samples: 3, seqLen: 32}\n"
                + "  - name: heal\n    train: {data: [{path: " + text + ", weight: 1}], steps: 2, batchSize: 2, seqLen: 32, gradAccumulation: 3,"
                + " evalInterval: 2, evalWindows: 2, checkpointInterval: 1}\n"
                + "  - name: eval\n    eval: {tasks: [copa, tinystories], dataDir: " + SharedData.require("eval") + ", limit: 5}\n");
        assertRanksWriteTheSame(file, "dec", new int[] {0, 2, 3}, Path.of("02-heal", "model.safetensors"), Path.of("01-narrow", "pruning-plan.json"));
    }

    /**
     * The same for an encoder-decoder (issue 16): an OpenBA made by {@code shears init} is pruned (layers by block influence, FFN
     * by activation), trained on OpenBA-V2's denoisers with Dynamic-UL2 (three micro-batches per step) and scored.
     */
    @Test
    void anEncoderDecoderPipelineOnTwoRanksRunsAsOneProcess() throws Exception {
        Path text = SharedData.require("eval/tinystories/tinystories_val_head.txt");
        Path model = dir.resolve("openba");
        CliTest.Run init = CliTest.shears("init", "--config", PipelineEncoderDecoderExampleTest.EXAMPLES.resolve("openba-tiny-config.json").toString(), "--dtype", "f32",
                "--tokenizer", SharedData.require("tokenizers/t5").toString(), "--out", model.toString());
        assertEquals(0, init.code(), init.err());
        Path file = dir.resolve("encdec.yaml");
        Files.writeString(file, "model: " + model + "\nstages:\n"
                + "  - name: narrow\n    prune: {decLayers: 4, ffn: 0.5, importance: activation, layerImportance: block-influence, calibration: " + text
                + ", samples: 3, seqLen: 32}\n"
                + "  - name: heal\n    train: {data: [{path: " + text + ", weight: 1}], objective: openba-v2, dynamic: true, steps: 2, batchSize: 2,"
                + " seqLen: 32, gradAccumulation: 3, evalInterval: 2, evalWindows: 2, checkpointInterval: 1}\n"
                + "  - name: eval\n    eval: {tasks: [tinystories], dataDir: " + SharedData.require("eval") + ", limit: 3}\n");
        assertRanksWriteTheSame(file, "encdec", new int[] {0, 2}, Path.of("02-heal", "model.safetensors"), Path.of("01-narrow", "pruning-plan.json"));
    }

    /**
     * A shear stage of an encoder-decoder pipeline: an OpenBA's gates and weights learned together on OpenBA-V2's denoisers
     * (three micro-batches per step, uneven over 2 ranks), the gates' gradients shared as the weights' are, then finalised.
     */
    @Test
    void anEncoderDecoderShearStageOnTwoRanksRunsAsOneProcess() throws Exception {
        Path text = SharedData.require("eval/tinystories/tinystories_val_head.txt");
        Path model = dir.resolve("openba-to-shear");
        CliTest.Run init = CliTest.shears("init", "--config", PipelineEncoderDecoderExampleTest.EXAMPLES.resolve("openba-tiny-config.json").toString(), "--dtype", "f32",
                "--tokenizer", SharedData.require("tokenizers/t5").toString(), "--out", model.toString());
        assertEquals(0, init.code(), init.err());
        Path file = dir.resolve("encdec-shear.yaml");
        Files.writeString(file, "model: " + model + "\nstages:\n"
                + "  - name: shear\n    shear: {decLayers: 4, heads: 0.5, ffn: 0.5, hidden: 0.25, objective: openba-v2, dynamic: true,"
                + " train: {data: [{path: " + text + ", weight: 1}], steps: 2, batchSize: 2, seqLen: 32, gradAccumulation: 3, warmupSteps: 1,"
                + " evalInterval: 2, evalWindows: 2, checkpointInterval: 1}}\n");
        assertRanksWriteTheSame(file, "encdec-shear", new int[] {0, 2}, Path.of("01-shear", "model.safetensors"), Path.of("01-shear", "gates.json"));
    }

    /** Runs {@code file} in one process (0) and on each other count of {@code ranks}, and compares what each wrote with one process's. */
    private static void assertRanksWriteTheSame(Path file, String label, int[] ranksToRun, Path... expected) throws Exception {
        List<Path> outs = new ArrayList<>();
        for (int ranks : ranksToRun) {
            Path out = dir.resolve(label + "-ranks" + ranks);
            Result r = run(shears(ranks, List.of("--threads", "1", "pipeline", "run", file.toString(), "--out", out.toString())), Map.of(), 300, dir);
            String where = ranks == 0 ? "one process" : ranks + " ranks";
            assertEquals(0, r.code(), where + ":\n" + r.output());
            assertEquals(1, r.output().lines().filter(l -> l.startsWith("report: ")).count(), where + ": rank 0 alone prints\n" + r.output());
            outs.add(out);
        }
        Path single = outs.getFirst();
        List<Path> files = files(single);
        assertTrue(files.containsAll(List.of(expected)), files.toString());
        for (Path out : outs.subList(1, outs.size())) {
            assertEquals(files, files(out), out + ": the same files");
            for (Path f : files) {
                String name = f.getFileName().toString();
                if (name.equals("metrics.jsonl")) {
                    assertEquals(MetricsLines.untimed(single.resolve(f)), MetricsLines.untimed(out.resolve(f)), out + ": " + f);
                } else if (name.equals("stage.json")) {
                    assertEquals(withoutSeconds(single, f), withoutSeconds(out, f), out + ": " + f);
                } else if (name.endsWith(".json") && !name.startsWith("report")) {
                    assertEquals(Files.readString(single.resolve(f)).replace(single.toString(), "OUT"), Files.readString(out.resolve(f)).replace(out.toString(), "OUT"),
                            out + ": " + f);
                } else if (name.endsWith(".safetensors")) {
                    assertArrayEquals(Files.readAllBytes(single.resolve(f)), Files.readAllBytes(out.resolve(f)), out + ": " + f + " differs");
                }
            }
        }
    }


    /** A stage record of the pipeline in {@code out} without the stage's seconds, the folder's own name in its paths as OUT. */
    private static String withoutSeconds(Path out, Path record) throws Exception {
        JsonNode n = Json.MAPPER.readTree(Files.readString(out.resolve(record)).replace(out.toString(), "OUT"));
        ((ObjectNode) n).remove("seconds");
        return n.toString();
    }
}
