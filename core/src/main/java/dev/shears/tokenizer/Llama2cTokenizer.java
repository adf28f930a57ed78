package dev.shears.tokenizer;

import dev.shears.ShearsException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The llama2.c {@code tokenizer.bin} vocabulary and its {@code encode()} (karpathy/llama2.c run.c):
 * a dummy-prefix space, one token per UTF-8 character or byte-fallback tokens ({@code <0xNN>} = id
 * byte + 3), then repeated merging of the adjacent pair whose concatenation has the highest score.
 */
public final class Llama2cTokenizer implements Tokenizer {
    private static final int BOS = 1;
    private static final int EOS = 2;
    private static final int BYTE_OFFSET = 3;

    private final String[] pieces;
    private final float[] scores;
    private final Map<String, Integer> ids = new HashMap<>();

    Llama2cTokenizer(String[] pieces, float[] scores) {
        this.pieces = pieces;
        this.scores = scores;
        for (int i = 0; i < pieces.length; i++) ids.putIfAbsent(pieces[i], i);
    }

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
        java.util.List<String> pieces = new java.util.ArrayList<>();
        java.util.List<Float> scores = new java.util.ArrayList<>();
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

    @Override
    public int vocabSize() {
        return pieces.length;
    }

    @Override
    public int[] encode(String text) {
        if (text.isEmpty()) return new int[0];
        int[] tokens = new int[(text.length() + 1) * 4];
        int n = 0;
        tokens[n++] = lookup(" ");
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            String ch = new String(Character.toChars(cp));
            i += Character.charCount(cp);
            Integer id = ids.get(ch);
            if (id != null) {
                tokens[n++] = id;
            } else {
                for (byte by : ch.getBytes(StandardCharsets.UTF_8)) tokens[n++] = (by & 0xff) + BYTE_OFFSET;
            }
        }
        while (true) {
            float best = Float.NEGATIVE_INFINITY;
            int bestId = -1;
            int bestAt = -1;
            for (int i = 0; i < n - 1; i++) {
                Integer id = ids.get(pieces[tokens[i]] + pieces[tokens[i + 1]]);
                if (id != null && scores[id] > best) {
                    best = scores[id];
                    bestId = id;
                    bestAt = i;
                }
            }
            if (bestAt < 0) break;
            tokens[bestAt] = bestId;
            System.arraycopy(tokens, bestAt + 2, tokens, bestAt + 1, n - bestAt - 2);
            n--;
        }
        return java.util.Arrays.copyOf(tokens, n);
    }

    private int lookup(String piece) {
        Integer id = ids.get(piece);
        if (id == null) throw new ShearsException("the llama2.c vocabulary has no '" + piece + "' token for the dummy prefix");
        return id;
    }

    @Override
    public String decode(int[] tokenIds) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : tokenIds) {
            if (id == BOS || id == EOS || id == 0) continue;
            if (id >= BYTE_OFFSET && id < BYTE_OFFSET + 256) {
                out.write(id - BYTE_OFFSET);
            } else {
                out.writeBytes(pieces[id].getBytes(StandardCharsets.UTF_8));
            }
        }
        String text = out.toString(StandardCharsets.UTF_8);
        return text.startsWith(" ") ? text.substring(1) : text;
    }

    @Override
    public String piece(int id) {
        return pieces[id];
    }

    @Override
    public int bosId() {
        return BOS;
    }

    @Override
    public int eosId() {
        return EOS;
    }

    @Override
    public boolean addsBos() {
        return true;
    }
}
