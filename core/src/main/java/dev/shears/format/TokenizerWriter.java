package dev.shears.format;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.format.gguf.GgufTokenizerData;
import dev.shears.format.hf.HfTokenizerFile;
import dev.shears.format.llama2c.Llama2cTokenizerFile;
import dev.shears.format.sentencepiece.SentencePieceModelFile;
import dev.shears.io.AtomicFiles;
import dev.shears.tokenizer.BpeTrainer;
import dev.shears.tokenizer.HfTokenizer;
import dev.shears.tokenizer.Llama2cTokenizer;
import dev.shears.tokenizer.SentencePieceTokenizer;
import dev.shears.tokenizer.Tokenizer;
import dev.shears.tokenizer.UnigramTokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Writes tokenizer files, each format through its codec.
 *
 * <p>{@link #writePruned}: the tokenizer of a pruned vocabulary in the format the original came in,
 * where new id {@code i} is old id {@code kept[i]}: llama2.c {@code tokenizer.bin} (pieces and
 * scores in the new order), SentencePiece {@code tokenizer.model} (the original file with its
 * pieces field cut and its trainer spec's ids remapped; T5's unigram {@code spiece.model} the same,
 * with the {@code tokenizer_config.json} whose {@code extra_ids} sentinels follow the pieces) or Hugging
 * Face {@code tokenizer.json} (BPE or Unigram vocab remapped, merges filtered, added tokens and
 * post-processor ids remapped, plus {@code tokenizer_config.json}). The result loads with {@link TokenizerLoader}. {@code kept} should
 * satisfy {@link dev.shears.tokenizer.VocabularyConstraints} for the pruned tokenizer to encode
 * kept-only text as before.
 *
 * <p>{@link #writeFiles}: the tokenizer a GGUF file carries in its metadata, as the file a Hugging
 * Face folder holds.
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
            case UnigramTokenizer u when originalFile != null && originalFile.getFileName().toString().endsWith(".model") -> writeSpiece(u, originalFile, kept, outDir);
            case UnigramTokenizer u -> {
                HfTokenizerFile.writePruned(source(originalFile, ".json", "Hugging Face"), kept, outDir);
                yield outDir.resolve("tokenizer.json");
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

    /**
     * A unigram {@code spiece.model}: the pieces field cut to the kept pieces; the sentinels past them come from the
     * {@code tokenizer_config.json} beside it ({@code extra_ids}), copied as it is, so every one must stay.
     */
    private static Path writeSpiece(UnigramTokenizer u, Path originalFile, int[] kept, Path outDir) {
        int pieces = u.modelPieces();
        int cut = 0;
        while (cut < kept.length && kept[cut] < pieces) cut++;
        if (kept.length - cut != u.vocabSize() - pieces) {
            throw new ShearsException(originalFile + ": a pruned spiece.model keeps every one of the " + (u.vocabSize() - pieces)
                    + " sentinels past its pieces (the tokenizer_config.json beside it numbers them); " + (kept.length - cut) + " are kept");
        }
        Path file = outDir.resolve(originalFile.getFileName());
        SentencePieceModelFile.writePruned(originalFile, Arrays.copyOf(kept, cut), file);
        for (String beside : new String[] {"tokenizer_config.json", "special_tokens_map.json"}) {
            Path from = originalFile.toAbsolutePath().resolveSibling(beside);
            if (Files.isRegularFile(from)) AtomicFiles.write(outDir.resolve(beside), out -> out.write(Files.readAllBytes(from)));
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
        Llama2cTokenizerFile.write(new BpeTrainer.Vocabulary(pieces, scores), file);
        return file;
    }

    /**
     * Writes the tokenizer a GGUF file carries as a file a Hugging Face folder can hold: a {@code llama}
     * vocabulary in llama.2c's {@code tokenizer.bin} layout (the same SentencePiece-style BPE; it needs
     * the Llama layout: unknown, BOS, EOS, then the 256 byte pieces), a {@code gpt2} vocabulary as a
     * byte-level {@code tokenizer.json} (+ {@code tokenizer_config.json}).
     *
     * @return the file written, or empty when the vocabulary has no such layout
     */
    public static Optional<Path> writeFiles(GgufTokenizerData data, Path dir) {
        int n = data.tokens().size();
        if (data.model().equals("llama")) {
            boolean llamaLayout = n >= 259 && data.bos() == 1 && data.eos() == 2 && data.scores().length == n;
            for (int b = 0; llamaLayout && b < 256; b++) llamaLayout = data.tokens().get(3 + b).equals(String.format("<0x%02X>", b));
            if (!llamaLayout) return Optional.empty();
            List<String> pieces = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                boolean normal = data.tokenTypes().length != n || data.tokenTypes()[i] == GgufTokenizerData.NORMAL;
                pieces.add(normal ? data.tokens().get(i).replace('\u2581', ' ') : data.tokens().get(i));
            }
            Path file = dir.resolve("tokenizer.bin");
            Llama2cTokenizerFile.write(new BpeTrainer.Vocabulary(pieces, data.scores()), file);
            return Optional.of(file);
        }
        if (!data.model().equals("gpt2")) return Optional.empty();
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode().put("version", "1.0");
        ArrayNode added = root.putArray("added_tokens");
        for (int i = 0; i < data.tokenTypes().length; i++) {
            int t = data.tokenTypes()[i];
            if (t == GgufTokenizerData.CONTROL || t == GgufTokenizerData.USER_DEFINED) {
                added.addObject().put("id", i).put("content", data.tokens().get(i)).put("single_word", false).put("lstrip", false)
                        .put("rstrip", false).put("normalized", false).put("special", true);
            }
        }
        root.putNull("normalizer");
        String pre = data.pre() == null ? "" : data.pre().toLowerCase(Locale.ROOT);
        HfTokenizer.SplitPattern pattern = pre.startsWith("llama") ? HfTokenizer.SplitPattern.LLAMA3
                : pre.startsWith("qwen") ? HfTokenizer.SplitPattern.QWEN2 : HfTokenizer.SplitPattern.GPT2;
        ObjectNode preTok = root.putObject("pre_tokenizer");
        if (pattern == HfTokenizer.SplitPattern.GPT2) {
            preTok.put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", true);
        } else {
            preTok.put("type", "Sequence");
            ArrayNode steps = preTok.putArray("pretokenizers");
            steps.addObject().put("type", "Split").put("behavior", "Isolated").put("invert", false).putObject("pattern").put("Regex", pattern.regex());
            steps.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", false);
        }
        root.putNull("post_processor");
        root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", true).put("use_regex", true);
        ObjectNode model = root.putObject("model").put("type", "BPE").putNull("dropout").putNull("unk_token")
                .putNull("continuing_subword_prefix").putNull("end_of_word_suffix").put("fuse_unk", false).put("byte_fallback", false)
                .put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        for (int i = 0; i < n; i++) vocab.put(data.tokens().get(i), i);
        ArrayNode merges = model.putArray("merges");
        for (String m : data.merges()) merges.add(m);
        ObjectNode config = json.createObjectNode().put("add_bos_token", data.addBos())
                .put("bos_token", data.bos() >= 0 ? data.tokens().get(data.bos()) : null).put("eos_token", data.eos() >= 0 ? data.tokens().get(data.eos()) : null);
        Path file = dir.resolve("tokenizer.json");
        try {
            AtomicFiles.writeString(file, json.writeValueAsString(root));
            AtomicFiles.writeString(dir.resolve("tokenizer_config.json"), json.writeValueAsString(config));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        return Optional.of(file);
    }
}
