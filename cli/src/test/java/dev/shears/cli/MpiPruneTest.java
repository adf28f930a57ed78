package dev.shears.cli;

import dev.shears.SharedData;
import dev.shears.dist.Collective;
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
 * Issue 17: one-shot {@code shears prune} under {@code mpirun -np 2} and {@code -np 3} (over loopback, one kernel thread
 * per rank) shares its calibration windows (five: uneven over 2 and 3 ranks) and writes a child whose weights, config,
 * plan, scores and tokenizer are byte-identical to one process's, for each way windows are scored: activation with block
 * influence, Taylor's gate gradients with angular distance, and Taylor's weight gradients (LLM-Pruner's param-first with
 * block influence; param-mix, with the Fisher term, with angular distance) on stories260K's tied table.
 */
class MpiPruneTest {
    @TempDir
    static Path dir;

    @Test
    void activationAndBlockInfluenceOnTwoAndThreeRanksPruneAsOneProcess() throws Exception {
        sameChildForAnyRanks("activation", List.of("--importance", "activation", "--layer-importance", "block-influence"));
    }

    @Test
    void taylorGatesAndAngularOnTwoAndThreeRanksPruneAsOneProcess() throws Exception {
        sameChildForAnyRanks("taylor", List.of("--importance", "taylor", "--taylor", "gate-mix", "--layer-importance", "angular"));
    }

    @Test
    void taylorParamFirstAndBlockInfluenceOnTwoAndThreeRanksPruneAsOneProcess() throws Exception {
        sameChildForAnyRanks("param-first", List.of("--importance", "taylor", "--taylor", "param-first", "--layer-importance", "block-influence"));
    }

    /** The Fisher term too, on stories260K's tied embedding table. */
    @Test
    void taylorParamMixAndAngularOnTwoAndThreeRanksPruneAsOneProcess() throws Exception {
        sameChildForAnyRanks("param-mix", List.of("--importance", "taylor", "--taylor", "param-mix", "--layer-importance", "angular"));
    }

    /**
     * The launcher sizes a rank's heap from the rank's plan ({@code --heap-plan} reads mpirun's rank count, loading no MPI):
     * a third of the windows' states, but a weight-level variant's later rank keeps each of its windows' gradients.
     */
    @Test
    void underMpirunTheHeapPlanIsARanks() throws Exception {
        long gatesAlone = heapPlan(1, "gate-mix"), gatesShared = heapPlan(3, "gate-mix");
        assertTrue(gatesShared < gatesAlone, "gate-mix: a rank of 3 plans " + gatesShared + " bytes, one process " + gatesAlone);
        long weightsAlone = heapPlan(1, "param-mix"), weightsShared = heapPlan(3, "param-mix");
        assertTrue(weightsShared > weightsAlone, "param-mix: a rank of 3 plans " + weightsShared + " bytes, one process " + weightsAlone);
    }

    private static long heapPlan(int ranks, String variant) throws Exception {
        List<String> args = new ArrayList<>(List.of("--heap-plan"));
        args.addAll(prune(dir.resolve("never"), List.of("--importance", "taylor", "--taylor", variant)));
        Result r = run(shears(0, args), ranks == 1 ? Map.of() : Map.of(Collective.WORLD_SIZE, String.valueOf(ranks)), 120, dir);
        assertEquals(0, r.code(), r.output());
        return Long.parseLong(r.output().lines().reduce((a, b) -> b).orElseThrow().strip());
    }

    private static void sameChildForAnyRanks(String name, List<String> criteria) throws Exception {
        List<Path> outs = new ArrayList<>();
        for (int ranks : new int[] {0, 2, 3}) {
            Path out = dir.resolve(name + "-ranks" + ranks);
            Result r = run(shears(ranks, prune(out, criteria)), Map.of(), 300, dir);
            String where = name + (ranks == 0 ? " in one process" : " on " + ranks + " ranks");
            assertEquals(0, r.code(), where + ":\n" + r.output());
            assertEquals(1, r.output().lines().filter(l -> l.startsWith("pruned ")).count(), where + ": rank 0 alone prints\n" + r.output());
            outs.add(out);
        }
        Path single = outs.getFirst();
        List<Path> files = files(single);
        assertTrue(files.contains(Path.of("pruning-plan.json")) && files.contains(Path.of("importance.json")), files.toString());
        for (Path out : outs.subList(1, outs.size())) {
            assertEquals(files, files(out), out + ": the same files");
            for (Path f : files) {
                if (f.getFileName().toString().startsWith("report")) continue; // the run's seconds
                assertArrayEquals(Files.readAllBytes(single.resolve(f)), Files.readAllBytes(out.resolve(f)), out + ": " + f + " differs");
            }
        }
    }

    private static List<String> prune(Path out, List<String> criteria) throws Exception {
        Path models = SharedData.require("models/stories260K");
        List<String> args = new ArrayList<>(List.of("--threads", "1", "prune", models.resolve("hf").toString(), "--tokenizer",
                models.resolve("tok512.bin").toString(), "--calibration", SharedData.require("eval/tinystories/tinystories_val_head.txt").toString(),
                "--samples", "5", "--seq-len", "32", "--ffn", "0.5", "--heads", "0.5", "--hidden", "0.25", "--layers", "0.2", "--out", out.toString()));
        args.addAll(criteria);
        return args;
    }
}
