package dev.shears.eval;

/**
 * A zero-shot task: where its data lives, how its items are read and formatted, and how it is scored.
 *
 * @param name      the name used on the command line ({@code piqa}, {@code arc_easy}, …)
 * @param kind      how it is scored
 * @param file      its data file, relative to the evaluation data folder (or absolute)
 * @param source    reads and formats the items
 * @param reference what the prompt format follows (the lm-evaluation-harness task it reproduces)
 */
public record Task(String name, TaskKind kind, String file, ItemSource source, String reference) {
    public Task {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("a task needs a name");
    }
}
