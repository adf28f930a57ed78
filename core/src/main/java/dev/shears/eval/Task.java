package dev.shears.eval;

import java.util.Objects;
import java.util.Optional;

/**
 * A task: where its data lives, how its items are read and formatted, and how it is scored.
 *
 * @param name      the name used on the command line ({@code piqa}, {@code arc_easy}, …)
 * @param kind      how it is scored
 * @param file      its data file, relative to the evaluation data folder (or absolute)
 * @param source    reads and formats the items
 * @param reference what the prompt format follows (the lm-evaluation-harness task it reproduces)
 * @param documents for a task configured as lm-eval configures it (its splits, few-shot examples): that
 *                  configuration, which then builds the items; {@code source} reads its first split zero-shot
 */
public record Task(String name, TaskKind kind, String file, ItemSource source, String reference, Optional<DocumentTask> documents) {
    public Task {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("a task needs a name");
        Objects.requireNonNull(documents, "documents");
    }

    /** A task read from one file, zero-shot. */
    public Task(String name, TaskKind kind, String file, ItemSource source, String reference) {
        this(name, kind, file, source, reference, Optional.empty());
    }

    /** A task configured as lm-eval configures it; its kind follows the configuration's {@code output_type}. */
    public static Task of(String name, String reference, DocumentTask documents) {
        return new Task(name, documents.output().kind(), documents.evalSplits().get(0).file(), documents.zeroShot(), reference, Optional.of(documents));
    }
}
