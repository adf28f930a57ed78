package dev.shears.format;

import dev.shears.SharedData;
import dev.shears.format.sentencepiece.SentencePieceModelFileTest;
import dev.shears.tokenizer.Fixtures;
import dev.shears.tokenizer.HfTokenizer;
import dev.shears.tokenizer.Llama2cTokenizer;
import dev.shears.tokenizer.SentencePieceTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static dev.shears.format.sentencepiece.SentencePieceModelFileTest.assertOneLine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** Picking the reader by name, folder and content, and one-line errors for malformed files. */
class TokenizerLoaderTest {
    @Test
    void picksTheReaderByNameFolderAndContent(@TempDir Path dir) throws IOException {
        Path model = SharedData.require("tokenizers/llama2/tokenizer.model");
        assertInstanceOf(SentencePieceTokenizer.class, TokenizerLoader.load(model));
        assertInstanceOf(Llama2cTokenizer.class, TokenizerLoader.load(SharedData.require("tokenizers/llama2/tokenizer.bin")));
        // a folder: the SentencePiece model wins over a tokenizer.json beside it (the converted copy Hugging Face reads)
        assertInstanceOf(SentencePieceTokenizer.class, TokenizerLoader.load(model.getParent()));
        Files.copy(Fixtures.path("bytelevel/gpt2/tokenizer.json"), dir.resolve("tokenizer.json"));
        assertInstanceOf(HfTokenizer.class, TokenizerLoader.load(dir), "alone, tokenizer.json is the tokenizer");
        Files.copy(model, dir.resolve("tokenizer.model"));
        assertInstanceOf(SentencePieceTokenizer.class, TokenizerLoader.load(dir));
        // names that say nothing: sniffed
        Path json = Files.copy(Fixtures.path("bytelevel/gpt2/tokenizer.json"), dir.resolve("vocab.dat"));
        assertInstanceOf(HfTokenizer.class, TokenizerLoader.load(json));
        Path proto = Files.copy(model, dir.resolve("spm"));
        assertInstanceOf(SentencePieceTokenizer.class, TokenizerLoader.load(proto));
        Path bin = Files.copy(SharedData.require("models/stories260K/tok512.bin"), dir.resolve("tok512"));
        assertEquals(512, TokenizerLoader.load(bin).vocabSize());
    }

    @Test
    void malformedFilesFailOnOneLineNamingTheFileAndTheProblem(@TempDir Path dir) throws IOException {
        String good = Files.readString(Fixtures.path("bytelevel/gpt2/tokenizer.json"));

        Path truncated = Files.writeString(dir.resolve("truncated.json"), good.substring(0, good.length() / 2));
        assertOneLine(truncated, "bad JSON at line", () -> TokenizerLoader.load(truncated));

        Path wordPiece = Files.writeString(dir.resolve("wordpiece.json"), good.replace("\"type\":\"BPE\"", "\"type\":\"WordPiece\""));
        assertOneLine(wordPiece, "model type 'WordPiece' is not supported", () -> TokenizerLoader.load(wordPiece));

        Path word = Files.write(dir.resolve("word.model"), SentencePieceModelFileTest.model(3));
        assertOneLine(word, "model type WORD is not supported", () -> TokenizerLoader.load(word));
        Path unigram = Files.write(dir.resolve("unigram.model"), SentencePieceModelFileTest.model(1));
        assertEquals(5, TokenizerLoader.load(unigram).vocabSize(), "a unigram model loads (T5's spiece.model)");

        Path normalizer = Files.writeString(dir.resolve("normalizer.json"), good.replace("\"normalizer\":null", "\"normalizer\":{\"type\":\"BertNormalizer\"}"));
        assertOneLine(normalizer, "normalizer type 'BertNormalizer' is not supported", () -> TokenizerLoader.load(normalizer));

        Path badMerge = Files.writeString(dir.resolve("badmerge.json"), good.replaceFirst("\"merges\":\\[\"", "\"merges\":[\"zz qq\",\""));
        assertOneLine(badMerge, "merge 0 'zz qq' uses a token that is not in the vocabulary", () -> TokenizerLoader.load(badMerge));

        Path noModel = Files.writeString(dir.resolve("nomodel.json"), "{\"version\": \"1.0\"}");
        assertOneLine(noModel, "no \"model\" object", () -> TokenizerLoader.load(noModel));

        byte[] proto = Files.readAllBytes(SharedData.require("tokenizers/llama2/tokenizer.model"));
        Path cut = Files.write(dir.resolve("cut.model"), Arrays.copyOf(proto, proto.length - 7));
        assertOneLine(cut, "malformed protobuf at byte", () -> TokenizerLoader.load(cut));

        byte[] bin = Files.readAllBytes(SharedData.require("models/stories260K/tok512.bin"));
        Path cutBin = Files.write(dir.resolve("cut.bin"), Arrays.copyOf(bin, bin.length - 3));
        assertOneLine(cutBin, "entry", () -> TokenizerLoader.load(cutBin));

        Path empty = Files.write(dir.resolve("empty"), new byte[0]);
        assertOneLine(empty, "empty file", () -> TokenizerLoader.load(empty));
        Path missing = dir.resolve("missing.json");
        assertOneLine(missing, "no such tokenizer file", () -> TokenizerLoader.load(missing));
    }
}
