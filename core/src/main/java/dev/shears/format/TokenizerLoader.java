package dev.shears.format;

import dev.shears.ShearsException;
import dev.shears.format.hf.HfTokenizerReader;
import dev.shears.format.llama2c.Llama2cTokenizerFile;
import dev.shears.format.sentencepiece.SentencePieceModelFile;
import dev.shears.tokenizer.Tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Finds and reads a tokenizer: Hugging Face {@code tokenizer.json} (BPE or Unigram), SentencePiece
 * {@code tokenizer.model} (BPE, Llama) or {@code spiece.model} (unigram, T5), or llama2.c
 * {@code tokenizer.bin}. A folder means the first of the {@link #NAMES} in it; a file is read by its extension, or by its first bytes when the name says
 * nothing ({'{'} → JSON, a protobuf field-1 tag → SentencePiece, otherwise llama2.c).
 */
public final class TokenizerLoader {
    /**
     * A model folder's tokenizer file names, in order of preference: a SentencePiece model or llama2.c
     * vocabulary is the tokenizer itself, and a tokenizer.json beside one is the converted copy Hugging
     * Face tools read (as Shears' exports write it).
     */
    public static final List<String> NAMES = List.of("tokenizer.model", "spiece.model", "tokenizer.bin", "tokenizer.json");

    private TokenizerLoader() {
    }

    /** The tokenizer at {@code path} (a file or a folder holding one); a missing, empty or malformed file is a one-line error naming it. */
    public static Tokenizer load(Path path) {
        if (Files.isDirectory(path)) {
            for (String name : NAMES) {
                Path candidate = path.resolve(name);
                if (Files.isRegularFile(candidate)) return load(candidate);
            }
            throw new ShearsException(path + ": no tokenizer.json, tokenizer.model, spiece.model or tokenizer.bin here; pass --tokenizer FILE");
        }
        if (!Files.isRegularFile(path)) throw new ShearsException(path + ": no such tokenizer file");
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".json")) return HfTokenizerReader.load(path);
        if (name.endsWith(".model")) return SentencePieceModelFile.load(path);
        if (name.endsWith(".bin")) return Llama2cTokenizerFile.read(path);
        byte[] head = head(path, 64);
        int firstText = 0;
        while (firstText < head.length && Character.isWhitespace(head[firstText])) firstText++;
        if (firstText < head.length && head[firstText] == '{') return HfTokenizerReader.load(path);
        if (head.length > 0 && head[0] == 0x0a) return SentencePieceModelFile.load(path); // field 1 (pieces), length-delimited
        if (head.length > 0) return Llama2cTokenizerFile.read(path);
        throw new ShearsException(path + ": empty file; expected tokenizer.json, tokenizer.model or a llama2.c tokenizer.bin");
    }

    private static byte[] head(Path path, int n) {
        try (InputStream in = Files.newInputStream(path)) {
            return in.readNBytes(n);
        } catch (IOException e) {
            throw new ShearsException(path + ": cannot read: " + e.getMessage(), e);
        }
    }
}
