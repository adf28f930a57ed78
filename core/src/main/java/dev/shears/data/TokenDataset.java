package dev.shears.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.ShearsException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * A prepared token folder ({@code shears data prepare}): shards memory-mapped read-only, addressed as
 * one continuous stream per split. Safe to read from several threads.
 */
public final class TokenDataset {
    public static final String INDEX = "index.json";
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path dir;
    private final JsonNode index;
    private final TokenWidth width;
    private final int vocabSize;
    private final Map<Split, List<MemorySegment>> shards = new EnumMap<>(Split.class);
    private final Map<Split, long[]> starts = new EnumMap<>(Split.class);
    private final Map<Split, Long> totals = new EnumMap<>(Split.class);

    private TokenDataset(Path dir, JsonNode index) {
        this.dir = dir;
        this.index = index;
        this.width = "uint32".equals(index.path("tokenWidth").asText()) ? TokenWidth.UINT32 : TokenWidth.UINT16;
        this.vocabSize = index.path("vocabSize").asInt();
    }

    /** Opens a prepared folder, checking that every shard is there with the size the index gives. */
    public static TokenDataset open(Path dir) {
        Path indexFile = dir.resolve(INDEX);
        if (!Files.isRegularFile(indexFile)) {
            throw new ShearsException(dir + ": not a prepared token folder (no " + INDEX + "; make one with `shears data prepare`)");
        }
        JsonNode index;
        try {
            index = new ObjectMapper().readTree(indexFile.toFile());
        } catch (IOException e) {
            throw new ShearsException(indexFile + ": not valid JSON: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
        if (!DataPreparer.FORMAT.equals(index.path("format").asText()) || index.path("version").asInt() != DataPreparer.VERSION) {
            throw new ShearsException(indexFile + ": not a " + DataPreparer.FORMAT + " v" + DataPreparer.VERSION + " index");
        }
        int vocab = index.path("vocabSize").asInt(-1);
        int widest = "uint32".equals(index.path("tokenWidth").asText()) ? Integer.MAX_VALUE : 1 << 16;
        if (!index.path("vocabSize").isIntegralNumber() || vocab < 1 || vocab > widest) {
            throw new ShearsException(indexFile + ": vocabSize " + index.path("vocabSize") + " is not a vocabulary size for " + index.path("tokenWidth").asText("uint16")
                    + " tokens");
        }
        TokenDataset data = new TokenDataset(dir, index);
        Arena arena = Arena.ofAuto();
        for (Split split : Split.values()) {
            JsonNode node = index.path("splits").path(split.key);
            List<MemorySegment> segments = new ArrayList<>();
            List<Long> starts = new ArrayList<>();
            long total = 0;
            for (JsonNode shard : node.path("shards")) {
                Path file = dir.resolve(shard.path("file").asText());
                long tokens = shard.path("tokens").asLong(-1);
                if (!shard.path("tokens").isIntegralNumber() || tokens < 0) {
                    throw new ShearsException(indexFile + ": split " + split.key + " lists a shard of " + shard.path("tokens") + " tokens");
                }
                if (!file.normalize().startsWith(dir.normalize())) throw new ShearsException(indexFile + ": shard " + file + " lies outside the folder");
                long expected = tokens * data.width.bytes;
                try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                    if (channel.size() != expected) {
                        throw new ShearsException(file + ": " + channel.size() + " bytes, the index says " + expected + " (" + tokens + " tokens); the folder is damaged");
                    }
                    segments.add(channel.map(FileChannel.MapMode.READ_ONLY, 0, expected, arena));
                } catch (IOException e) {
                    throw new ShearsException(file + ": cannot read shard: " + e.getMessage(), e);
                }
                starts.add(total);
                total += tokens;
            }
            if (total != node.path("tokens").asLong()) {
                throw new ShearsException(indexFile + ": split " + split.key + " lists " + total + " tokens in its shards but says " + node.path("tokens").asLong());
            }
            data.shards.put(split, segments);
            data.starts.put(split, starts.stream().mapToLong(Long::longValue).toArray());
            data.totals.put(split, total);
        }
        return data;
    }

    public Path dir() {
        return dir;
    }

    /** The folder's name, used as the domain name. */
    public String name() {
        return dir.toAbsolutePath().normalize().getFileName().toString();
    }

    public int vocabSize() {
        return vocabSize;
    }

    public int eosId() {
        return index.path("eosId").asInt(-1);
    }

    public String tokenizer() {
        return index.path("tokenizer").asText();
    }

    public long documents() {
        return index.path("documents").asLong();
    }

    public long tokens(Split split) {
        return totals.get(split);
    }

    /** Copies tokens {@code [start, start + count)} of a split into {@code out} from {@code offset}. */
    public void read(Split split, long start, int[] out, int offset, int count) {
        if (start < 0 || start + count > tokens(split)) {
            throw new IndexOutOfBoundsException("tokens [" + start + ", " + (start + count) + ") of " + tokens(split) + " in " + split.key);
        }
        long[] first = starts.get(split);
        List<MemorySegment> segments = shards.get(split);
        int shard = java.util.Arrays.binarySearch(first, start);
        if (shard < 0) shard = -shard - 2;
        long position = start;
        for (int i = 0; i < count; i++, position++) {
            while (shard + 1 < first.length && position >= first[shard + 1]) shard++;
            long local = position - first[shard];
            MemorySegment segment = segments.get(shard);
            int token = width == TokenWidth.UINT16 ? Short.toUnsignedInt(segment.get(U16, local * 2)) : segment.get(U32, local * 4);
            if (token < 0 || token >= vocabSize) {
                throw new ShearsException(dir + ": token " + token + " at " + split.key + " position " + position + " is outside the folder's vocabulary of "
                        + vocabSize + "; the folder is damaged");
            }
            out[offset + i] = token;
        }
    }
}
