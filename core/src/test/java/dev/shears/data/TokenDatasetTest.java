package dev.shears.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.SharedData;
import dev.shears.ShearsException;
import dev.shears.format.TokenizerLoader;
import dev.shears.progress.Progress;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 13: a token-data index with negative or absurd counts and ids is refused with one line, never read past. */
class TokenDatasetTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path shared;
    static Path prepared;

    @BeforeAll
    static void prepare() {
        Path tok = SharedData.require("models/stories260K/tok512.bin");
        prepared = shared.resolve("ts");
        DataPreparer.prepare(TokenizerLoader.load(tok), tok.toString(), List.of(SharedData.require("eval/tinystories/tinystories_val_head.txt")),
                prepared, PrepareOptions.DEFAULT, Progress.SILENT);
    }

    /** A copy of the prepared folder with its index edited. */
    static Path edited(String name, Consumer<ObjectNode> edit) throws IOException {
        Path copy = shared.resolve(name);
        Files.createDirectories(copy);
        try (var files = Files.list(prepared)) {
            for (Path f : files.toList()) Files.copy(f, copy.resolve(f.getFileName()));
        }
        ObjectNode index = (ObjectNode) JSON.readTree(copy.resolve(TokenDataset.INDEX).toFile());
        edit.accept(index);
        JSON.writeValue(copy.resolve(TokenDataset.INDEX).toFile(), index);
        return copy;
    }

    static String refused(Path dir) {
        String m = assertThrows(ShearsException.class, () -> TokenDataset.open(dir)).getMessage();
        assertEquals(1, m.lines().count(), m);
        return m;
    }

    @Test
    void negativeOrAbsurdCountsAreRefused() throws IOException {
        assertTrue(refused(edited("neg-vocab", i -> i.put("vocabSize", -5))).contains("vocabSize -5"));
        assertTrue(refused(edited("huge-vocab", i -> i.put("vocabSize", 70_000))).contains("vocabSize 70000"), "uint16 tokens cannot hold it");
        assertTrue(refused(edited("neg-shard", i -> ((ObjectNode) i.path("splits").path("train").path("shards").get(0)).put("tokens", -10)))
                .contains("shard of -10 tokens"));
        assertTrue(refused(edited("absurd-shard", i -> ((ObjectNode) i.path("splits").path("train").path("shards").get(0)).put("tokens", 4_000_000_000_000L)))
                .contains("the folder is damaged"));
        assertTrue(refused(edited("escape", i -> ((ObjectNode) i.path("splits").path("train").path("shards").get(0)).put("file", "../ts/x.bin")))
                .contains("outside the folder"));
    }

    @Test
    void tokenIdsBeyondTheVocabularyAreRefusedWhenRead() throws IOException {
        TokenDataset small = TokenDataset.open(edited("small-vocab", i -> i.put("vocabSize", 3)));
        int[] out = new int[64];
        ShearsException e = assertThrows(ShearsException.class, () -> small.read(Split.TRAIN, 0, out, 0, out.length));
        assertTrue(e.getMessage().contains("outside the folder's vocabulary of 3"), e.getMessage());
        TokenDataset whole = TokenDataset.open(prepared);
        whole.read(Split.TRAIN, 0, out, 0, out.length);
        assertTrue(java.util.Arrays.stream(out).allMatch(t -> t >= 0 && t < 512));
    }
}
