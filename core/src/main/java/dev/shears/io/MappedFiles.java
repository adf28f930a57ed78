package dev.shears.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Whole files mapped read-only into memory, for the formats that read their tensors in place. */
public final class MappedFiles {
    private MappedFiles() {
    }

    /** Reads a mapped file into what owns the mapping from then on (and closes it). */
    @FunctionalInterface
    public interface Reader<T> {
        T read(Arena arena, MemorySegment file);
    }

    /**
     * Maps {@code path} in a shared arena and hands both to {@code reader}, whose result owns the arena.
     * When the file cannot be read, or the reader fails, the mapping is released and the error is one
     * line naming the file.
     */
    public static <T> T map(Path path, Reader<T> reader) {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            return reader.read(arena, channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena));
        } catch (IOException e) {
            arena.close();
            throw Printable.error(path + ": cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }
}
