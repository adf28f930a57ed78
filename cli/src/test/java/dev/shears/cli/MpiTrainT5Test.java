package dev.shears.cli;

import dev.shears.SharedData;
import dev.shears.cli.MpiRuns.Result;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.shears.cli.MpiRuns.files;
import static dev.shears.cli.MpiRuns.run;
import static dev.shears.cli.MpiRuns.shears;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 16: {@code shears train --model T5_FOLDER} (UL2 denoising, Dynamic-UL2) under {@code mpirun -np 2} and {@code -np 3}
 * shares each step's three micro-batches (uneven over 2 ranks; one each over 3) and the held-out batches, and writes the
 * model, checkpoints (weights, AdamW moments, batcher state), settings and metrics (timings apart) byte-identical to one
 * process's; rank 0 alone prints. A run halted after its step-2 checkpoint resumes on 2 ranks to the same bytes. An OpenBA
 * (seeded, with t5-tiny-random's tokenizer) trains on 2 ranks to one process's bytes too.
 */
class MpiTrainT5Test {
    @TempDir
    static Path dir;
    static Path data;

    @BeforeAll
    static void prepare() throws IOException {
        data = dir.resolve("data");
        Path text = dir.resolve("text.txt");
        Files.writeString(text, Files.readString(SharedData.require("eval/tinystories/tinystories_val_head.txt")).substring(0, 20000));
        CliTest.Run r = CliTest.shears("data", "prepare", "--tokenizer", SharedData.require("models/t5-tiny-random").toString(), "--out", data.toString(),
                text.toString());
        assertEquals(0, r.code(), r.err());
    }

    private static List<String> train(Path out, boolean resume) {
        return train(SharedData.require("models/t5-tiny-random"), out, resume);
    }

    private static List<String> train(Path model, Path out, boolean resume) {
        List<String> args = new java.util.ArrayList<>(List.of("--threads", "1", "train", "--model", model.toString(),
                "--data", data.toString(), "--objective", "ul2", "--dynamic", "--steps", "3", "--out", out.toString(), "--set", "batchSize=2",
                "--set", "seqLen=32", "--set", "gradAccumulation=3", "--set", "evalInterval=2", "--set", "evalWindows=4", "--set", "lr=1e-2",
                "--set", "warmupSteps=1", "--set", "checkpointInterval=2", "--set", "keepCheckpoints=2"));
        if (resume) args.add("--resume");
        return args;
    }

    @Test
    void trainOnTwoAndThreeRanksIsByteIdenticalToOneProcess() throws Exception {
        Path single = dir.resolve("single");
        Result one = run(shears(0, train(single, false)), Map.of(), 300, dir);
        assertEquals(0, one.code(), one.output());
        assertTrue(files(single).stream().anyMatch(f -> f.startsWith("checkpoints") && f.toString().contains("step-00000002")), files(single).toString());
        for (int ranks : new int[] {2, 3}) {
            Path out = dir.resolve("ranks" + ranks);
            Result r = run(shears(ranks, train(out, false)), Map.of(), 300, dir);
            String where = ranks + " ranks";
            assertEquals(0, r.code(), where + ":\n" + r.output());
            assertEquals(1, r.output().lines().filter(l -> l.startsWith("trained ")).count(), where + ": rank 0 alone prints\n" + r.output());
            compare(single, out, where);
        }

        // a run whose last checkpoint and model are gone (killed after step 2) resumes on 2 ranks to the same bytes
        Path out = dir.resolve("ranks2");
        dev.shears.io.AtomicFiles.deleteTree(out.resolve("checkpoints/step-00000003"));
        Files.delete(out.resolve("model.safetensors"));
        Result resumed = run(shears(2, train(out, true)), Map.of(), 300, dir);
        assertEquals(0, resumed.code(), resumed.output());
        assertTrue(resumed.output().contains("resumed at step 2"), resumed.output());
        compare(single, out, "resumed on 2 ranks");
    }

    @Test
    void openBaOnTwoRanksIsByteIdenticalToOneProcess() throws Exception {
        Path openBa = PruneOpenBaCommandTest.withTokenizer(dir.resolve("openba-parent"));
        Path single = dir.resolve("openba-single"), two = dir.resolve("openba-ranks2");
        Result one = run(shears(0, train(openBa, single, false)), Map.of(), 300, dir);
        assertEquals(0, one.code(), one.output());
        Result r = run(shears(2, train(openBa, two, false)), Map.of(), 300, dir);
        assertEquals(0, r.code(), r.output());
        assertEquals(1, r.output().lines().filter(l -> l.startsWith("trained ")).count(), "rank 0 alone prints\n" + r.output());
        compare(single, two, "OpenBA on 2 ranks");
    }

    /** The same files; models, checkpoints and settings byte-identical, metrics identical apart from timings. */
    private static void compare(Path single, Path out, String where) throws IOException {
        assertEquals(files(single), files(out), where + ": the same files");
        for (Path f : files(single)) {
            if (f.getFileName().toString().equals("metrics.jsonl")) {
                assertEquals(MetricsLines.untimed(single.resolve(f)), MetricsLines.untimed(out.resolve(f)), where + ": " + f);
            } else {
                assertArrayEquals(Files.readAllBytes(single.resolve(f)), Files.readAllBytes(out.resolve(f)), where + ": " + f + " differs");
            }
        }
    }
}
