package dev.shears.tokenizer;

import dev.shears.ShearsException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes the tokenizer of a pruned vocabulary in the format the original came in, where new id
 * {@code i} is old id {@code kept[i]}: llama2.c {@code tokenizer.bin} (pieces and scores in the new
 * order), SentencePiece {@code tokenizer.model} (the original file with its pieces field cut and
 * its trainer spec's ids remapped) or Hugging Face {@code tokenizer.json} (vocab remapped, merges
 * filtered, added tokens and post-processor ids remapped, plus {@code tokenizer_config.json}). The
 * result loads with {@link TokenizerLoader}. {@code kept} should satisfy
 * {@link VocabularyConstraints} for the pruned tokenizer to encode kept-only text as before.
 */
public final class TokenizerWriter {
    private TokenizerWriter() {
    }

    /**
     * @param original     the tokenizer read from {@code originalFile}
     * @param originalFile the file it was read from (SentencePiece and Hugging Face files are rewritten, not regenerated); unused for llama2.c
     * @param kept         old ids, strictly increasing
     * @param outDir       folder to write into (created)
     * @return the tokenizer file written
     */
    public static Path writePruned(Tokenizer original, Path originalFile, int[] kept, Path outDir) {
        for (int i = 0; i < kept.length; i++) {
            if (kept[i] < 0 || kept[i] >= original.vocabSize() || (i > 0 && kept[i] <= kept[i - 1])) {
                throw new ShearsException("kept token ids must be strictly increasing and inside [0, " + original.vocabSize() + "); entry " + i + " is " + kept[i]);
            }
        }
        try {
            Files.createDirectories(outDir);
        } catch (IOException e) {
            throw new ShearsException(outDir + ": cannot create: " + e.getMessage(), e);
        }
        return switch (original) {
            case Llama2cTokenizer l -> writeLlama2c(l, kept, outDir.resolve("tokenizer.bin"));
            case SentencePieceTokenizer sp -> {
                Path file = outDir.resolve("tokenizer.model");
                SentencePieceModelFile.writePruned(source(originalFile, ".model", "SentencePiece"), kept, file);
                yield file;
            }
            case HfTokenizer hf -> {
                HfTokenizerFile.writePruned(source(originalFile, ".json", "Hugging Face"), kept, outDir);
                yield outDir.resolve("tokenizer.json");
            }
            default -> throw new ShearsException("cannot write a pruned " + original.getClass().getSimpleName() + "; only llama2.c, SentencePiece and tokenizer.json vocabularies");
        };
    }

    private static Path source(Path file, String extension, String format) {
        if (file == null || !Files.isRegularFile(file) || !file.getFileName().toString().endsWith(extension)) {
            throw new ShearsException("a pruned " + format + " tokenizer is written by rewriting its " + extension + " file; got " + file
                    + " (vocabularies read from GGUF metadata cannot be written back this way)");
        }
        return file;
    }

    /** llama2.c fixes ids 0..258 (unknown, BOS, EOS, 256 bytes): they must be kept, and so stay where they are. */
    private static Path writeLlama2c(Llama2cTokenizer t, int[] kept, Path file) {
        for (int id = 0; id < 259; id++) {
            if (kept.length <= id || kept[id] != id) throw new ShearsException("a llama2.c vocabulary must keep ids 0..258 (unknown, BOS, EOS and the 256 byte tokens); id " + id + " is dropped");
        }
        List<String> pieces = new ArrayList<>(kept.length);
        float[] scores = new float[kept.length];
        for (int i = 0; i < kept.length; i++) {
            pieces.add(t.piece(kept[i]));
            scores[i] = t.score(kept[i]);
        }
        BpeTrainer.writeLlama2c(new BpeTrainer.Vocabulary(pieces, scores), file);
        return file;
    }
}
