package dev.shears.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.SharedData;
import dev.shears.format.TokenizerLoader;
import dev.shears.progress.Progress;
import dev.shears.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Documents start with BOS by default, as LLaMA-family models are pretrained and as evaluation scores them;
 * found by issue 14's Jha et al. experiment, whose models trained here never saw the BOS every evaluated
 * document starts with. {@code bos = false} keeps the earlier EOS-only stream.
 */
class DocumentStartTest {
    private static final List<String> DOCS = List.of("Once upon a time there was a cat.", "The dog ran home.", "Lily smiled.");

    private static int[] prepared(Path dir, Tokenizer tokenizer, boolean bos) throws IOException {
        Path text = dir.resolve("docs.txt");
        Files.writeString(text, String.join("\n\n", DOCS) + "\n");
        Path out = dir.resolve(bos ? "bos" : "eos-only");
        TokenDataset d = DataPreparer.prepare(tokenizer, "tok512", List.of(text), out,
                new PrepareOptions("text", DocumentSplit.PARAGRAPH, 0, 2048, PrepareOptions.DEFAULT.shardTokens(), bos), Progress.SILENT);
        assertEquals(bos, new ObjectMapper().readTree(out.resolve(TokenDataset.INDEX).toFile()).path("options").path("bos").asBoolean(), "the index records it");
        int[] tokens = new int[(int) d.tokens(Split.TRAIN)];
        d.read(Split.TRAIN, 0, tokens, 0, tokens.length);
        return tokens;
    }

    private static int[] expected(Tokenizer tokenizer, boolean bos) {
        return DOCS.stream().flatMapToInt(doc -> IntStream.concat(IntStream.concat(bos ? IntStream.of(tokenizer.bosId()) : IntStream.empty(),
                Arrays.stream(tokenizer.encode(doc))), IntStream.of(tokenizer.eosId()))).toArray();
    }

    @Test
    void everyDocumentStartsWithBosAndEndsWithEos(@TempDir Path dir) throws IOException {
        Tokenizer tokenizer = TokenizerLoader.load(SharedData.require("models/stories260K/tok512.bin"));
        assertEquals(1, tokenizer.bosId());
        assertEquals(2, tokenizer.eosId());
        assertArrayEquals(expected(tokenizer, true), prepared(dir, tokenizer, true));
        assertArrayEquals(expected(tokenizer, false), prepared(dir, tokenizer, false));
        assertEquals(true, PrepareOptions.DEFAULT.bos());
    }
}
