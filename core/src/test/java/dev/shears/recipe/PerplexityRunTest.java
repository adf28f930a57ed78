package dev.shears.recipe;

import dev.shears.ShearsException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 13: the text to score is read with limits, never whole and unbounded. */
class PerplexityRunTest {
    @Test
    void anEndlessDeviceIsRefusedAtOnceInsteadOfFillingTheHeap() {
        Path zero = Path.of("/dev/zero");
        long began = System.nanoTime();
        ShearsException e = assertThrows(ShearsException.class, () -> PerplexityRun.read(zero, OptionalInt.empty()));
        assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
        assertThrows(ShearsException.class, () -> PerplexityRun.read(zero, OptionalInt.of(100)), "with a limit too: a device is not a text");
        assertTrue(System.nanoTime() - began < 5e9, "within seconds");
    }

    @Test
    void limitCharsReadsOnlyTheBeginningAndTheWholeFileIsCapped(@TempDir Path tmp) throws IOException {
        Path text = tmp.resolve("t.txt");
        Files.writeString(text, "héllo wörld, ".repeat(1000));
        assertEquals("héllo wörl", PerplexityRun.read(text, OptionalInt.of(10)));
        assertEquals(Files.readString(text), PerplexityRun.read(text, OptionalInt.empty()));
        assertEquals(Files.readString(text), PerplexityRun.read(text, OptionalInt.of(Integer.MAX_VALUE)), "a limit past the end is the whole text");
        Path big = tmp.resolve("big.txt");
        try (var channel = java.nio.channels.FileChannel.open(big, java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
            channel.write(java.nio.ByteBuffer.wrap(new byte[] {'a'}), PerplexityRun.MAX_TEXT_BYTES); // sparse: one byte past the cap
        }
        ShearsException e = assertThrows(ShearsException.class, () -> PerplexityRun.read(big, OptionalInt.empty()));
        assertTrue(e.getMessage().contains("--limit-chars"), e.getMessage());
        Path bad = tmp.resolve("bad.txt");
        Files.write(bad, new byte[] {'o', 'k', (byte) 0xC3});
        assertTrue(assertThrows(ShearsException.class, () -> PerplexityRun.read(bad, OptionalInt.of(50))).getMessage().contains("not valid UTF-8"));
    }
}
