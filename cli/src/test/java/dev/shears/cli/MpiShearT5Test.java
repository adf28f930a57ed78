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
 * {@code shears shear T5_FOLDER} under {@code mpirun -np 2}: the ranks share each step's three micro-batches (uneven over two)
 * and the held-out batches, the gates' gradients added in micro-batch order as the weights' are, so the child, gates.json,
 * pruning-plan.json, checkpoints (with their gate state) and settings are byte-identical to one process's and the metrics
 * identical apart from timings; rank 0 alone prints. A run halted after its step-2 checkpoint resumes on 2 ranks to the same bytes.
 */
class MpiShearT5Test {
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

    private static List<String> shear(Path out, boolean resume) {
        List<String> args = new java.util.ArrayList<>(List.of("--threads", "1", "shear", SharedData.require("models/t5-tiny-random").toString(),
                "--heads", "0.5", "--ffn", "0.5", "--hidden", "0.25", "--enc-layers", "3", "--dec-layers", "2", "--data", data.toString(),
                "--objective", "ul2", "--dynamic", "--steps", "3", "--batch", "2", "--seq", "32", "--out", out.toString(),
                "--set", "gradAccumulation=3", "--set", "evalInterval=2", "--set", "evalWindows=4", "--set", "checkpointInterval=2",
                "--set", "keepCheckpoints=2"));
        if (resume) args.add("--resume");
        return args;
    }

    @Test
    void shearOnTwoRanksIsByteIdenticalToOneProcess() throws Exception {
        Path single = dir.resolve("single");
        Result one = run(shears(0, shear(single, false)), Map.of(), 300, dir);
        assertEquals(0, one.code(), one.output());
        Path two = dir.resolve("ranks2");
        Result r = run(shears(2, shear(two, false)), Map.of(), 300, dir);
        assertEquals(0, r.code(), r.output());
        assertEquals(1, r.output().lines().filter(l -> l.startsWith("sheared ")).count(), "rank 0 alone prints\n" + r.output());
        compare(single, two, "2 ranks");

        // a run whose last checkpoint and model are gone (killed after step 2) resumes on 2 ranks to the same bytes
        dev.shears.io.AtomicFiles.deleteTree(two.resolve("checkpoints/step-00000003"));
        Files.delete(two.resolve("model.safetensors"));
        Result resumed = run(shears(2, shear(two, true)), Map.of(), 300, dir);
        assertEquals(0, resumed.code(), resumed.output());
        assertTrue(resumed.output().contains("resumed at step 2"), resumed.output());
        compare(single, two, "resumed on 2 ranks");
    }

    /** The same files; models, gates, plans, checkpoints and settings byte-identical, metrics identical apart from timings (reports carry seconds). */
    private static void compare(Path single, Path out, String where) throws IOException {
        assertEquals(files(single), files(out), where + ": the same files");
        for (Path f : files(single)) {
            String name = f.getFileName().toString();
            if (name.startsWith("report.")) continue;
            if (name.equals("metrics.jsonl")) {
                assertEquals(MetricsLines.untimed(single.resolve(f)), MetricsLines.untimed(out.resolve(f)), where + ": " + f);
            } else {
                assertArrayEquals(Files.readAllBytes(single.resolve(f)), Files.readAllBytes(out.resolve(f)), where + ": " + f + " differs");
            }
        }
    }
}
