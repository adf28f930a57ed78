package dev.shears.prune;

import dev.shears.dist.MpiTest;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 17: Taylor's weight-level variants (vectorize, param-first, param-second, param-mix) with the calibration windows
 * shared over {@code mpirun -np 2} and {@code -np 3} score with the bits of one process, tied table and untied head alike
 * ({@link MpiTaylorProbe}).
 */
class MpiTaylorTest {
    @Test
    void weightLevelVariantsOnTwoRanksScoreAsOneProcess() throws Exception {
        probe(2);
    }

    @Test
    void weightLevelVariantsOnThreeRanksScoreAsOneProcess() throws Exception {
        probe(3);
    }

    private static void probe(int ranks) throws Exception {
        List<String> command = MpiTest.mpirun(ranks);
        command.addAll(MpiTest.javaCommand(MpiTaylorProbe.class.getName()));
        MpiTest.Result r = MpiTest.run(command, 180);
        assertEquals(0, r.code(), "mpirun -np " + ranks + " exited with " + r.code() + ":\n" + r.output());
        // 2 models × 2 window counts × 4 variants
        for (int rank = 0; rank < ranks; rank++) assertTrue(r.output().contains("rank " + rank + " of " + ranks + " ok: 16 weight-level scorings"), r.output());
    }
}
