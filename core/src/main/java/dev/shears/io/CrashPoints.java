package dev.shears.io;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Fault injection for the crash-safety tests (docs/reliability.md): with the environment variable
 * {@code SHEARS_CRASH_AT=N} the process halts at the N-th crash point it reaches, as {@code kill -9}
 * would (no finally blocks, no shutdown hooks), after naming the point on standard error; with
 * {@code SHEARS_CRASH_AT=list} it names every point it passes and goes on. The points are the
 * moments between the steps of every durable write: a file complete under its temporary name, each
 * rename, each stage of a checkpoint. Unset, as in every normal run, {@link #reach} does nothing.
 */
public final class CrashPoints {
    public static final String VARIABLE = "SHEARS_CRASH_AT";
    private static final String SETTING = System.getenv(VARIABLE);
    private static final AtomicInteger REACHED = new AtomicInteger();

    private CrashPoints() {
    }

    /** Marks one crash point; {@code where} says what is on disk at that moment. */
    public static void reach(String where) {
        if (SETTING == null) return;
        int n = REACHED.incrementAndGet();
        if (SETTING.equals("list")) {
            System.err.println("crash point " + n + ": " + where);
        } else if (SETTING.equals(Integer.toString(n))) {
            System.err.println("crash point " + n + ": " + where + " (halting)");
            System.err.flush();
            Runtime.getRuntime().halt(137);
        }
    }
}
