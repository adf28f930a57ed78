package dev.shears.eval;

import java.nio.file.Path;
import java.util.List;

/** Reads a task's data file into items; problems are {@link dev.shears.ShearsException}s naming the file, the line and the problem. */
@FunctionalInterface
public interface ItemSource {
    List<Item> read(Path file);
}
