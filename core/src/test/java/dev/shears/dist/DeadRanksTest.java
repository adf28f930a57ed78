package dev.shears.dist;

import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Who tells of a dead rank, and what (the whole path, with a SIGKILL under mpirun, is in the CLI's MpiTrainTest). */
class DeadRanksTest {
    // ranks 0..3: pids 100..103; ranks 0, 1 and 3 on host 7, rank 2 on host 9
    private static DeadRanks rank(int r) {
        return new DeadRanks(r, new long[] {100, 101, 102, 103}, new long[] {7, 7, 9, 7});
    }

    @Test
    void theLowestLiveRankOfTheHostNamesTheDeadOnes() {
        Set<Long> gone = Set.of(101L, 103L);
        String line = rank(0).report(pid -> !gone.contains(pid));
        assertEquals("shears (rank 0 of 4): rank 1 (pid 101), rank 3 (pid 103) ended, so mpirun stops the other ranks (without an error of its own"
                + " above, it was killed); run the same command again: train, shear and pipelines resume from their last checkpoint", line);
        assertNull(rank(2).report(pid -> !gone.contains(pid)), "rank 2 is on another host: it cannot see them");
        // rank 0 dead: rank 1 tells
        assertNull(rank(3).report(pid -> pid != 100));
        assertTrue(rank(1).report(pid -> pid != 100).startsWith("shears (rank 1 of 4): rank 0 (pid 100) ended, so"));
    }

    @Test
    void nothingWhenNoRankIsGoneOrTheRunFinished() {
        assertNull(rank(0).report(pid -> true));
        DeadRanks done = rank(0);
        done.finished();
        assertNull(done.report(pid -> false));
    }
}
