package dev.shears.prune;

import dev.shears.ShearsException;
import dev.shears.data.Split;
import dev.shears.data.TokenDataset;
import dev.shears.progress.Progress;
import dev.shears.tokenizer.Tokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How often each token id occurs in a corpus: the input of vocabulary pruning (OpenBA-V2 keeps the
 * most frequent tokens of the target corpus).
 */
public final class TokenCounts {
    private static final int CHUNK = 1 << 20;

    private final long[] counts;
    private long total;

    /** All zero, for {@code vocabSize} ids. */
    public TokenCounts(int vocabSize) {
        if (vocabSize <= 0) throw new ShearsException("vocabulary size must be positive, got " + vocabSize);
        this.counts = new long[vocabSize];
    }

    /**
     * Counts the tokens of a text file, line by line (each non-empty line encoded on its own, without
     * BOS/EOS), reporting progress in bytes.
     */
    public static TokenCounts ofText(Tokenizer tokenizer, Path textFile, Progress progress) {
        TokenCounts c = new TokenCounts(tokenizer.vocabSize());
        long size;
        try {
            size = Files.size(textFile);
        } catch (IOException e) {
            throw new ShearsException(textFile + ": cannot read: " + e.getMessage(), e);
        }
        progress.start("counting tokens", size, "B");
        try (BufferedReader in = Files.newBufferedReader(textFile, StandardCharsets.UTF_8)) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (!line.isBlank()) c.add(tokenizer.encode(line));
                progress.advance(line.getBytes(StandardCharsets.UTF_8).length + 1L);
            }
        } catch (IOException e) {
            throw new ShearsException(textFile + ": cannot read: " + e.getMessage(), e);
        } finally {
            progress.finish();
        }
        return c;
    }

    /** Counts one split of a prepared token folder, whose ids must lie below {@code vocabSize}. */
    public static TokenCounts ofDataset(TokenDataset data, Split split, int vocabSize, Progress progress) {
        if (data.vocabSize() > vocabSize) {
            throw new ShearsException(data.dir() + ": prepared for a vocabulary of " + data.vocabSize() + " ids, the tokenizer has " + vocabSize);
        }
        TokenCounts c = new TokenCounts(vocabSize);
        long n = data.tokens(split);
        int[] buffer = new int[(int) Math.min(CHUNK, Math.max(1, n))];
        progress.start("counting tokens", n, "tok");
        try {
            for (long at = 0; at < n; at += buffer.length) {
                int count = (int) Math.min(buffer.length, n - at);
                data.read(split, at, buffer, 0, count);
                for (int i = 0; i < count; i++) {
                    if (buffer[i] < 0 || buffer[i] >= vocabSize) {
                        throw new ShearsException(data.dir() + ": token " + (at + i) + " of " + split.key + " is id " + buffer[i] + ", outside the vocabulary of " + vocabSize);
                    }
                    c.counts[buffer[i]]++;
                }
                c.total += count;
                progress.advance(count);
            }
        } finally {
            progress.finish();
        }
        return c;
    }

    /** Adds one occurrence of each id. */
    public void add(int[] ids) {
        for (int id : ids) {
            if (id < 0 || id >= counts.length) throw new ShearsException("token id " + id + " is outside the vocabulary of " + counts.length);
            counts[id]++;
        }
        total += ids.length;
    }

    public int vocabSize() {
        return counts.length;
    }

    public long count(int id) {
        return counts[id];
    }

    /** Tokens counted. */
    public long total() {
        return total;
    }

    /** The count of every id, in id order. */
    public long[] counts() {
        return counts.clone();
    }
}
