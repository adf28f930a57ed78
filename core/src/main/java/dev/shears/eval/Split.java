package dev.shears.eval;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * One split of a task's data as lm-evaluation-harness names it ({@code test}, {@code validation}, {@code train},
 * {@code dev}), the file under the evaluation data folder that holds it, and how its rows become documents.
 *
 * @param note how the file differs from the split lm-eval reads (a prefix of it, a copy that lost a step of its
 *             preprocessing), written into the notes of every result that uses it; empty when it does not differ
 */
public record Split(String name, String file, Reader reader, String note) {
    /** Reads a split's file into documents in file order; problems are ShearsExceptions naming the file and line. */
    @FunctionalInterface
    public interface Reader {
        List<Doc> read(Path file);
    }

    public Split {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(reader, "reader");
        Objects.requireNonNull(note, "note");
    }

    /** A split whose file holds what lm-eval reads. */
    public Split(String name, String file, Reader reader) {
        this(name, file, reader, "");
    }

    boolean presentIn(Path dataDir) {
        return Files.isRegularFile(dataDir.resolve(file));
    }

    List<Doc> read(Path dataDir) {
        return reader.read(dataDir.resolve(file));
    }
}
