package dev.shears.io;

import dev.shears.ShearsException;
import dev.shears.format.IoTestFiles;
import dev.shears.format.gguf.GgufModelWriter;
import dev.shears.format.hf.HfModel;
import dev.shears.model.Model;
import dev.shears.model.TinyModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A write that fails part way leaves neither a partial file nor a temporary one, and keeps what was there. */
class IoAtomicWriteTest {
    @TempDir
    Path dir;

    private List<String> listing(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aFailingWriteLeavesNoFile() throws IOException {
        Path target = dir.resolve("out.bin");
        ShearsException e = assertThrows(ShearsException.class, () -> AtomicFiles.write(target, out -> {
            out.write(new byte[3 << 20]); // more than the buffer: bytes reach the disk before the failure
            throw new IOException("disk full");
        }));
        assertTrue(e.getMessage().contains("out.bin") && e.getMessage().contains("disk full"), e.getMessage());
        assertEquals(List.of(), listing(dir));
        assertThrows(IllegalStateException.class, () -> AtomicFiles.write(target, out -> {
            out.write(1);
            throw new IllegalStateException("bug");
        }));
        assertEquals(List.of(), listing(dir));
    }

    @Test
    void aFailingRewriteKeepsTheOldContent() throws IOException {
        Path target = dir.resolve("out.txt");
        AtomicFiles.writeString(target, "old");
        assertThrows(ShearsException.class, () -> AtomicFiles.write(target, out -> {
            out.write("new, but only half".getBytes());
            throw new IOException("interrupted");
        }));
        assertEquals("old", Files.readString(target));
        assertEquals(List.of("out.txt"), listing(dir));
    }

    @Test
    void aBatchMovesNothingUnlessEveryFileWasWritten() throws IOException {
        assertThrows(ShearsException.class, () -> {
            try (AtomicFiles.Batch batch = new AtomicFiles.Batch()) {
                batch.add(dir.resolve("a"), out -> out.write(1));
                batch.add(dir.resolve("b"), out -> out.write(2));
                batch.add(dir.resolve("c"), out -> {
                    throw new IOException("no space");
                });
                batch.commit();
            }
        });
        assertEquals(List.of(), listing(dir));
    }

    @Test
    void aFailingModelFolderWriteLeavesTheOldModel() throws IOException {
        Path folder = dir.resolve("model");
        Model old = TinyModels.random(TinyModels.gqa(), 1);
        HfModel.write(old, folder);
        List<String> before = listing(folder);
        // a folder where the new sharded index must go makes the write fail after the shards were written
        Files.createDirectories(folder.resolve(HfModel.INDEX).resolve("x"));
        Model other = TinyModels.random(TinyModels.nonUniformWithBias(), 2);
        ShearsException e = assertThrows(ShearsException.class, () -> HfModel.write(other, folder, DType.F32, 1000));
        assertTrue(e.getMessage().contains(HfModel.INDEX), e.getMessage());
        List<String> after = listing(folder);
        assertEquals(Stream.concat(before.stream(), Stream.of(HfModel.INDEX)).sorted().toList(), after,
                "no shard, index or config of the failed write and no temporary file");
        Files.delete(folder.resolve(HfModel.INDEX).resolve("x"));
        Files.delete(folder.resolve(HfModel.INDEX));
        IoTestFiles.assertSameWeights(old, HfModel.read(folder));
    }

    @Test
    void aFailingGgufWriteLeavesNoFile() throws IOException {
        Path target = dir.resolve("m.gguf");
        Files.createDirectories(target.resolve("inside"));
        assertThrows(ShearsException.class, () -> GgufModelWriter.write(TinyModels.random(TinyModels.gqa(), 1), target));
        assertEquals(List.of("m.gguf"), listing(dir));
        assertFalse(Files.isRegularFile(target));
    }
}
