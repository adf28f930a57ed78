package dev.shears.format;

import dev.shears.ShearsException;
import dev.shears.format.gguf.GgufTokenizerData;
import dev.shears.model.Activations;
import dev.shears.model.MaskSet;
import dev.shears.model.Model;
import dev.shears.model.Transformer;
import org.junit.jupiter.api.function.Executable;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Helpers shared by the io tests: hand-made files, weight comparison, forward passes, failure checks. */
public final class IoTestFiles {
    private IoTestFiles() {
    }

    /** A safetensors file with exactly this header text and data bytes. */
    public static Path rawSafetensors(Path file, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        Files.write(file, b.array());
        return file;
    }

    /** Every stored tensor bit for bit (NaN payloads included). */
    public static void assertSameWeights(Model expected, Model actual) {
        assertEquals(expected.config(), actual.config());
        expected.weights().forEach((role, layer, values) -> {
            float[] got = actual.weights().get(role, layer);
            assertEquals(values.length, got.length, role + " layer " + layer);
            for (int i = 0; i < values.length; i++) {
                if (Float.floatToRawIntBits(values[i]) != Float.floatToRawIntBits(got[i])) {
                    throw new AssertionError(role + " layer " + layer + " [" + i + "]: expected " + values[i] + " got " + got[i]);
                }
            }
        });
    }

    public static float[] logits(Model model, int[] ids) {
        return Transformer.forward(model, ids, 1, ids.length, Activations.forInference(model.config(), 1, ids.length), MaskSet.NONE);
    }

    public static int[] ids(int vocab, int n) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = (i * 7 + 3) % vocab;
        return ids;
    }

    /** The call throws a ShearsException whose one-line message names the file and contains every fragment. */
    public static ShearsException assertFails(Path file, Executable call, String... fragments) {
        ShearsException e = assertThrows(ShearsException.class, call);
        String m = e.getMessage();
        assertFalse(m.contains("\n"), "message is one line: " + m);
        assertTrue(m.contains(file.getFileName().toString()), "message names " + file.getFileName() + ": " + m);
        for (String f : fragments) assertTrue(m.contains(f), "message contains '" + f + "': " + m);
        return e;
    }

    /** A llama2.c tokenizer.bin as GGUF tokenizer data (SentencePiece conventions: '▁' for space, byte and control tokens typed). */
    public static GgufTokenizerData llama2cTokenizer(Path file, int vocab) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        b.getInt(); // max token length
        List<String> tokens = new ArrayList<>();
        float[] scores = new float[vocab];
        int[] types = new int[vocab];
        for (int i = 0; i < vocab; i++) {
            scores[i] = b.getFloat();
            byte[] piece = new byte[b.getInt()];
            b.get(piece);
            String s = new String(piece, StandardCharsets.UTF_8);
            types[i] = i == 0 ? GgufTokenizerData.UNKNOWN : i <= 2 ? GgufTokenizerData.CONTROL
                    : s.matches("<0x[0-9A-F]{2}>") ? GgufTokenizerData.BYTE : GgufTokenizerData.NORMAL;
            tokens.add(s.replace(' ', '\u2581'));
        }
        return GgufTokenizerData.of("llama", tokens, scores, types, List.of(), 1, 2);
    }
}
