package dev.shears.dist;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongPredicate;

/**
 * Shears' own line when a rank dies. A rank killed outright (SIGKILL, the out-of-memory killer) cannot say
 * anything, and MPI gives the others no error to catch: {@code mpirun} ends them with SIGTERM. Every rank
 * therefore learns, at start, the process id and host of every other; on SIGTERM (a JVM shutdown hook) the
 * lowest-numbered surviving rank of each host looks for the ranks of its host that are gone and names them,
 * in one line, before {@code mpirun}'s own report. A normal exit, or an abort after a rank's own error
 * (which that rank has already explained), prints nothing: then no process is gone.
 *
 * <p>Ranks on other hosts cannot be looked at from here; the line speaks only for this host's ranks.
 */
public final class DeadRanks {
    private final int rank;
    private final long[] pids;
    private final long[] hosts;
    private volatile boolean finished;

    DeadRanks(int rank, long[] pids, long[] hosts) {
        this.rank = rank;
        this.pids = pids;
        this.hosts = hosts;
    }

    /**
     * Gathers every rank's process id and host (a collective call: every rank makes it) and installs the
     * shutdown hook that writes to {@code err}. Call {@link #finished()} before a normal exit.
     */
    public static DeadRanks watch(Collective collective, PrintWriter err) {
        int size = collective.size();
        double[] all = new double[2 * size];
        int[] counts = new int[size];
        java.util.Arrays.fill(counts, 2);
        // the host as its name's 32-bit hash, which a double holds exactly (two hosts of one run colliding: negligible)
        collective.allGather(new double[] {ProcessHandle.current().pid(), hostHash()}, 0, all, counts);
        long[] pids = new long[size], hosts = new long[size];
        for (int r = 0; r < size; r++) {
            pids[r] = (long) all[2 * r];
            hosts[r] = (long) all[2 * r + 1];
        }
        DeadRanks watch = new DeadRanks(collective.rank(), pids, hosts);
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("shears-dead-ranks").unstarted(() -> {
            String line = watch.report(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
            if (line != null) {
                err.println(line);
                err.flush();
            }
        }));
        return watch;
    }

    /** The run ends normally (or after this rank's own error): nothing to report. */
    public void finished() {
        finished = true;
    }

    /** The line to print, or null: ranks of this host that are gone, told by the lowest-numbered live one. */
    String report(LongPredicate alive) {
        if (finished) return null;
        List<Integer> dead = new ArrayList<>();
        int teller = -1;
        for (int r = 0; r < pids.length; r++) {
            if (hosts[r] != hosts[rank]) continue;
            if (r == rank || alive.test(pids[r])) {
                if (teller < 0) teller = r;
            } else {
                dead.add(r);
            }
        }
        if (dead.isEmpty() || teller != rank) return null;
        StringBuilder who = new StringBuilder();
        for (int r : dead) who.append(who.isEmpty() ? "" : ", ").append("rank ").append(r).append(" (pid ").append(pids[r]).append(')');
        return "shears (rank " + rank + " of " + pids.length + "): " + who + " ended, so mpirun stops the other ranks (without an error of its own"
                + " above, it was killed); run the same command again: train, shear and pipelines resume from their last checkpoint";
    }

    private static int hostHash() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName().hashCode();
        } catch (java.net.UnknownHostException e) {
            return String.valueOf(System.getenv("HOSTNAME")).hashCode();
        }
    }
}
