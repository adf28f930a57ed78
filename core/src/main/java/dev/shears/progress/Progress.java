package dev.shears.progress;

/**
 * Where long-running library work reports how far it is; the command line renders it as a progress
 * bar with rate and ETA on stderr. Library code never prints.
 */
public interface Progress {
    /** Reports nothing. */
    Progress SILENT = notesTo(text -> { });

    /** Shows no bar; passes only the notes on (e.g. to a log). */
    static Progress notesTo(java.util.function.Consumer<String> notes) {
        return new Progress() {
            @Override
            public void start(String task, long total, String unit) {
            }

            @Override
            public void advance(long amount) {
            }

            @Override
            public void note(String text) {
                notes.accept(text);
            }

            @Override
            public void finish() {
            }
        };
    }

    /** Begins a task of {@code total} units (e.g. tokens); {@code total <= 0} when unknown. */
    void start(String task, long total, String unit);

    /** {@code amount} more units are done. */
    void advance(long amount);

    /** A short status shown after the bar, e.g. {@code loss 2.31}; replaces the previous one. */
    default void status(String text) {
    }

    /** Something the user must read once, on its own line (e.g. a damaged checkpoint was skipped). */
    default void note(String text) {
    }

    /** The task is over. */
    void finish();
}
