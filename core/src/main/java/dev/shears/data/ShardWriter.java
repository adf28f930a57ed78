package dev.shears.data;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Appends token ids to numbered shard files of one split ({@code train-00000.bin}, ...), little-endian. */
final class ShardWriter implements AutoCloseable {
    /** One written shard. */
    record Shard(String file, long tokens) {
    }

    private final Path dir;
    private final Split split;
    private final TokenWidth width;
    private final long shardTokens;
    private final List<Shard> shards = new ArrayList<>();
    private OutputStream out;
    private long inShard;
    private long total;

    ShardWriter(Path dir, Split split, TokenWidth width, long shardTokens) {
        this.dir = dir;
        this.split = split;
        this.width = width;
        this.shardTokens = shardTokens;
    }

    void write(int[] ids, int from, int to) {
        try {
            for (int i = from; i < to; i++) {
                if (out == null || inShard == shardTokens) rollOver();
                int id = ids[i];
                out.write(id & 0xff);
                out.write((id >>> 8) & 0xff);
                if (width == TokenWidth.UINT32) {
                    out.write((id >>> 16) & 0xff);
                    out.write((id >>> 24) & 0xff);
                }
                inShard++;
                total++;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void rollOver() throws IOException {
        finishShard();
        String name = String.format("%s-%05d.bin", split.key, shards.size());
        out = new BufferedOutputStream(Files.newOutputStream(dir.resolve(name)), 1 << 20);
        shards.add(new Shard(name, 0));
        inShard = 0;
    }

    private void finishShard() throws IOException {
        if (out == null) return;
        out.close();
        Shard last = shards.removeLast();
        shards.add(new Shard(last.file(), inShard));
        out = null;
    }

    long total() {
        return total;
    }

    /** The shards so far, the open one with its current count. */
    List<Shard> shards() {
        List<Shard> all = new ArrayList<>(shards);
        if (out != null) all.set(all.size() - 1, new Shard(all.getLast().file(), inShard));
        return all;
    }

    @Override
    public void close() {
        try {
            finishShard();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
