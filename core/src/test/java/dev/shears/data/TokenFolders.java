package dev.shears.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** Prepared token folders whose token at every position is its own position (uint32), so a window names its start (public for the objective tests). */
public final class TokenFolders {
    private TokenFolders() {
    }

    /** A folder {@code dir/name} of {@code train} training tokens 0, 1, 2, … and {@code heldOut} held-out tokens. */
    public static TokenDataset counting(Path dir, String name, int train, int heldOut) {
        Path folder = dir.resolve(name);
        try {
            Files.createDirectories(folder);
            write(folder.resolve("train-00000.bin"), train);
            write(folder.resolve("heldout-00000.bin"), heldOut);
            ObjectNode index = new ObjectMapper().createObjectNode().put("format", DataPreparer.FORMAT).put("version", DataPreparer.VERSION)
                    .put("tokenizer", "none").put("vocabSize", Math.max(train, heldOut) + 1).put("eosId", 0).put("bosId", 0).put("tokenWidth", "uint32")
                    .put("documents", 1).put("tokens", train + heldOut);
            ObjectNode splits = index.putObject("splits");
            splits.putObject("train").put("tokens", train).putArray("shards").addObject().put("file", "train-00000.bin").put("tokens", train);
            splits.putObject("heldout").put("tokens", heldOut).putArray("shards").addObject().put("file", "heldout-00000.bin").put("tokens", heldOut);
            Files.writeString(folder.resolve(TokenDataset.INDEX), index.toPrettyString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return TokenDataset.open(folder);
    }

    private static void write(Path file, int count) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(count * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) b.putInt(i);
        Files.write(file, b.array());
    }
}
