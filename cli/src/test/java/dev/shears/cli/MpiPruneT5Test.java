package dev.shears.cli;

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
 * Issue 16: {@code shears prune} of a T5 under {@code mpirun -np 2} and {@code -np 3} (loopback, one kernel thread per
 * rank) shares its five calibration windows (uneven over 2 and 3 ranks), adds each window's scores and losses in window
 * order, and writes a child whose weights, config, plan and tokenizer are byte-identical to one process's: activation
 * with block influence, and first-order Taylor (gate-mix, which sums the windows' gradients and squares) with angular
 * distance; and an OpenBA (seeded, with t5-tiny-random's tokenizer) by Taylor's default gate-per-sequence and angular
 * distance over all tokens, its vocabulary cut too.
 */
class MpiPruneT5Test {
    @TempDir
    static Path dir;

    @Test
    void activationAndBlockInfluenceOnTwoAndThreeRanksPruneAsOneProcess() throws Exception {
        sameChildForAnyRanks("activation", List.of("--importance", "activation", "--layer-importance", "block-influence"));
    }

    @Test
    void taylorAndAngularOnTwoAndThreeRanksPruneAsOneProcess() throws Exception {
        sameChildForAnyRanks("taylor", List.of("--importance", "taylor", "--taylor", "gate-mix", "--layer-importance", "angular"));
    }

    @Test
    void openBaTaylorAngularAndVocabularyOnTwoAndThreeRanksPruneAsOneProcess() throws Exception {
        Path openBa = PruneOpenBaCommandTest.withTokenizer(dir.resolve("openba-parent"));
        Path corpus = SharedData.require("eval/tinystories/tinystories_val_head.txt");
        sameChildForAnyRanks("openba", openBa, List.of("--importance", "taylor", "--layer-importance", "angular", "--angular-tokens", "all",
                "--enc-layers", "1", "--dec-layers", "2", "--vocab-size", "1200", "--vocab-corpus", corpus.toString()));
    }

    private static void sameChildForAnyRanks(String name, List<String> criteria) throws Exception {
        List<String> args = new ArrayList<>(List.of("--enc-layers", "4", "--dec-layers", "3"));
        args.addAll(criteria);
        sameChildForAnyRanks(name, SharedData.require("models/t5-tiny-random"), args);
    }

    private static void sameChildForAnyRanks(String name, Path model, List<String> criteria) throws Exception {
        List<Path> outs = new ArrayList<>();
        for (int ranks : new int[] {0, 2, 3}) {
            Path out = dir.resolve(name + "-ranks" + ranks);
            Result r = run(shears(ranks, prune(model, out, criteria)), Map.of(), 300, dir);
            String where = name + (ranks == 0 ? " in one process" : " on " + ranks + " ranks");
            assertEquals(0, r.code(), where + ":\n" + r.output());
            assertEquals(1, r.output().lines().filter(l -> l.startsWith("pruned ")).count(), where + ": rank 0 alone prints\n" + r.output());
            outs.add(out);
        }
        Path single = outs.getFirst();
        List<Path> files = files(single);
        assertTrue(files.contains(Path.of("pruning-plan.json")) && files.contains(Path.of("config.json")), files.toString());
        for (Path out : outs.subList(1, outs.size())) {
            assertEquals(files, files(out), out + ": the same files");
            for (Path f : files) assertArrayEquals(Files.readAllBytes(single.resolve(f)), Files.readAllBytes(out.resolve(f)), out + ": " + f + " differs");
        }
    }

    private static List<String> prune(Path model, Path out, List<String> criteria) {
        List<String> args = new ArrayList<>(List.of("--threads", "1", "prune", model.toString(), "--calibration",
                SharedData.require("eval/tinystories/tinystories_val_head.txt").toString(), "--samples", "5", "--seq-len", "16", "--ffn", "0.5",
                "--heads", "0.5", "--hidden", "0.25", "--out", out.toString()));
        args.addAll(criteria);
        return args;
    }
}
