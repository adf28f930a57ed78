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

    /** Issue 13 (kills at exact moments): a run folder killed right after its first staged file holds only debris; it counts as empty, and the debris goes. */
    @Test
    void debrisOfInterruptedWritesIsRecognisedAndRemoved(@TempDir Path dir) throws IOException {
        Path run = dir.resolve("run");
        Files.createDirectories(run.resolve("checkpoints/.step-4.tmp-123456"));
        Files.writeString(run.resolve("checkpoints/.step-4.tmp-123456/model.safetensors"), "x");
        Files.writeString(run.resolve(".train-config.json.8419978484913002873.tmp"), "{");
        Files.createDirectories(run.resolve(".01-cut.partial-42"));
        assertTrue(AtomicFiles.isMissingOrEmpty(run.resolve("checkpoints")));
        assertFalse(AtomicFiles.isMissingOrEmpty(run), "checkpoints/ is a real folder");
        Files.writeString(run.resolve(".hidden"), "the user's");
        Files.writeString(run.resolve("notes.tmp"), "the user's");
        AtomicFiles.removeDebris(run);
        try (Stream<Path> left = Files.walk(run)) {
            assertEquals(List.of("", ".hidden", "checkpoints", "notes.tmp"),
                    left.map(p -> run.relativize(p).toString()).sorted().toList(), "only debris names are removed");
        }
        Path onlyDebris = dir.resolve("fresh");
        Files.createDirectories(onlyDebris);
        Files.writeString(onlyDebris.resolve(".shear-config.json.77.tmp"), "");
        assertTrue(AtomicFiles.isMissingOrEmpty(onlyDebris));
        AtomicFiles.writeFolder(onlyDebris, d -> Files.writeString(d.resolve("a"), "b"));
        assertTrue(Files.isRegularFile(onlyDebris.resolve("a")));
        assertFalse(Files.exists(onlyDebris.resolve(".shear-config.json.77.tmp")));
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
