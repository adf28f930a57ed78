package dev.shears.format.sentencepiece;

import dev.shears.ShearsException;
import dev.shears.SharedData;
import dev.shears.tokenizer.SentencePieceTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reading {@code tokenizer.model}: a tiny hand-written model, and malformed models refused in one line. */
public class SentencePieceModelFileTest {
    private static byte[] varint(long v) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while ((v & ~0x7fL) != 0) {
            out.write((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
        return out.toByteArray();
    }

    private static void field(ByteArrayOutputStream out, int number, byte[] payload) {
        out.writeBytes(varint((long) number << 3 | 2));
        out.writeBytes(varint(payload.length));
        out.writeBytes(payload);
    }

    /** A model with three pieces and the given trainer model type. */
    public static byte[] model(int modelType) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String p : new String[] {"<unk>", "<s>", "</s>", "▁", "a"}) {
            ByteArrayOutputStream piece = new ByteArrayOutputStream();
            field(piece, 1, p.getBytes(StandardCharsets.UTF_8));
            field(out, 1, piece.toByteArray());
        }
        ByteArrayOutputStream trainer = new ByteArrayOutputStream();
        trainer.writeBytes(varint(3 << 3));
        trainer.writeBytes(varint(modelType));
        field(out, 2, trainer.toByteArray());
        return out.toByteArray();
    }

    @Test
    void aTinyHandWrittenModelLoads(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("tokenizer.model");
        Files.write(file, model(2));
        SentencePieceTokenizer t = SentencePieceModelFile.read(file);
        assertEquals(5, t.vocabSize());
        assertArrayEquals(new int[] {3, 4}, t.encode("a"));
        assertFalse(t.encode("b").length == 0);
    }

    @Test
    void malformedModelsAreRefusedWithTheFileAndTheProblem(@TempDir Path dir) throws IOException {
        byte[] good = Files.readAllBytes(SharedData.require("tokenizers/llama2/tokenizer.model"));
        Path truncated = dir.resolve("truncated.model");
        Files.write(truncated, Arrays.copyOf(good, 1000));
        assertOneLine(truncated, "malformed protobuf", () -> SentencePieceModelFile.read(truncated));

        Path unigram = dir.resolve("unigram.model");
        Files.write(unigram, model(1));
        assertOneLine(unigram, "model type UNIGRAM is not supported", () -> SentencePieceModelFile.read(unigram));

        Path empty = dir.resolve("empty.model");
        Files.write(empty, new byte[0]);
        assertOneLine(empty, "no pieces", () -> SentencePieceModelFile.read(empty));

        Path text = dir.resolve("text.model");
        Files.writeString(text, "{\"this is\": \"json, not protobuf\"}");
        assertOneLine(text, "protobuf", () -> SentencePieceModelFile.read(text));
    }

    /** {@code load} fails with a {@link ShearsException} of one line that names {@code file} and says {@code problem}. */
    public static void assertOneLine(Path file, String problem, org.junit.jupiter.api.function.Executable load) {
        ShearsException e = assertThrows(ShearsException.class, load);
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(problem), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }
}
