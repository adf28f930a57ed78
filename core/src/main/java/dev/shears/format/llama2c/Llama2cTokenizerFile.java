package dev.shears.format.llama2c;

import dev.shears.ShearsException;
import dev.shears.io.AtomicFiles;
import dev.shears.tokenizer.BpeTrainer;
import dev.shears.tokenizer.Llama2cTokenizer;

import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * llama2.c's {@code tokenizer.bin} (karpathy/llama2.c {@code tokenizer.py} writes it, {@code run.c}
 * reads it): a little-endian int, the longest piece's byte length, then for each id its float
 * score, int byte length and UTF-8 bytes. Ids 0–2 are unknown, BOS and EOS, 3–258 the byte pieces.
 */
public final class Llama2cTokenizerFile {
    private static final int BYTE_OFFSET = 3;

    private Llama2cTokenizerFile() {
    }

    /** Reads a {@code tokenizer.bin}; a truncated entry or a length past the header's maximum is a one-line error naming the byte. */
    public static Llama2cTokenizer read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ShearsException(file + ": cannot read: " + e.getMessage(), e);
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() < 4) throw new ShearsException(file + ": truncated llama2.c tokenizer (no header)");
        int maxLength = b.getInt();
        if (maxLength <= 0 || maxLength > 1024) throw new ShearsException(file + ": not a llama2.c tokenizer (max token length " + maxLength + ")");
        List<String> pieces = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        while (b.hasRemaining()) {
            int at = b.position();
            if (b.remaining() < 8) throw new ShearsException(file + ": truncated entry " + pieces.size() + " at byte " + at);
            float score = b.getFloat();
            int length = b.getInt();
            if (length < 0 || length > maxLength || length > b.remaining()) {
                throw new ShearsException(file + ": entry " + pieces.size() + " at byte " + at + " has length " + length + " (max " + maxLength + ", " + b.remaining() + " bytes left)");
            }
            byte[] piece = new byte[length];
            b.get(piece);
            pieces.add(new String(piece, StandardCharsets.UTF_8));
            scores.add(score);
        }
        if (pieces.size() < BYTE_OFFSET + 256) throw new ShearsException(file + ": only " + pieces.size() + " entries; a llama2.c vocabulary has byte tokens 3..258");
        float[] s = new float[scores.size()];
        for (int i = 0; i < s.length; i++) s[i] = scores.get(i);
        return new Llama2cTokenizer(pieces.toArray(String[]::new), s);
    }

    /** Writes a vocabulary in llama2.c's {@code tokenizer.bin} layout (little-endian). */
    public static void write(BpeTrainer.Vocabulary vocabulary, Path file) {
        AtomicFiles.write(file, out -> {
            DataOutputStream data = new DataOutputStream(out);
            int maxLen = vocabulary.pieces().stream().mapToInt(p -> p.getBytes(StandardCharsets.UTF_8).length).max().orElse(1);
            ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            data.write(b.putInt(0, maxLen).array(), 0, 4);
            for (int i = 0; i < vocabulary.pieces().size(); i++) {
                byte[] bytes = vocabulary.pieces().get(i).getBytes(StandardCharsets.UTF_8);
                b.clear();
                b.putFloat(0, vocabulary.scores()[i]).putInt(4, bytes.length);
                data.write(b.array(), 0, 8);
                data.write(bytes);
            }
            data.flush();
        });
    }
}
