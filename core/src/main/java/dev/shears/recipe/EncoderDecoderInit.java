package dev.shears.recipe;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.format.hf.ConfigJson;
import dev.shears.format.hf.FolderWeights;
import dev.shears.io.DType;
import dev.shears.seq2seq.EncoderDecoder;
import dev.shears.seq2seq.EncoderDecoderConfig;
import dev.shears.seq2seq.OpenBaConfig;
import dev.shears.seq2seq.OpenBaHfFolder;
import dev.shears.seq2seq.OpenBaModel;
import dev.shears.seq2seq.OpenBaWeights;
import dev.shears.seq2seq.T5Config;
import dev.shears.seq2seq.T5HfFolder;
import dev.shears.seq2seq.T5Model;
import dev.shears.seq2seq.T5Weights;
import dev.shears.tensor.RandomTensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * {@code shears init} of a T5 or OpenBA config.json: the model's fp32 heap weights ({@link T5Weights#zeros},
 * {@link OpenBaWeights#zeros}) filled as {@link InitRun} fills a decoder-only model's (every matrix seeded uniform with
 * standard deviation {@value InitRun#STD}, norm weights 1, biases 0: T5's RMSNorms and OpenBA's LayerNorms alike), written
 * by the architecture's own folder writer ({@link T5HfFolder}, {@link OpenBaHfFolder}). The tensors are visited in the
 * order of each architecture's one name table, and tensor i draws from seed + i, so a seed gives the same bits.
 */
final class EncoderDecoderInit {
    private EncoderDecoderInit() {
    }

    /**
     * Refuses in one line a shape whose fp32 weights the heap cannot hold, or with a tensor larger than a Java array: {@link #random}
     * holds the whole model on the heap, as the architecture's trainer and pruner do.
     */
    static void checkFits(EncoderDecoderConfig c) {
        long largest = (long) c.vocabSize() * c.dim();
        for (EncoderDecoderConfig.Layer l : java.util.stream.Stream.concat(c.encoder().stream(), c.decoder().stream()).toList()) {
            largest = Math.max(largest, Math.max(3L * l.numHeads() * c.headDim() * c.dim(), 3L * l.ffnDim() * c.dim()));
        }
        if (largest > Integer.MAX_VALUE - 8) {
            throw new ShearsException(c.describe() + ": a tensor of " + largest + " values, more than one Java array holds; shears init writes this shape for decoder-only models only");
        }
        new MemoryPlan("initialising " + c.describe() + " in fp32", MemoryPlan.BASELINE + c.parameterCount() * Float.BYTES, 0).check();
    }

    /** A model of shape {@code c} with seeded random weights ({@link #checkFits} first). */
    static EncoderDecoder random(EncoderDecoderConfig c, long seed) {
        return switch (c) {
            case T5Config t5 -> {
                T5Weights w = T5Weights.zeros(t5);
                w.forEach(t5, filler(seed));
                yield new T5Model(t5, w);
            }
            case OpenBaConfig openBa -> {
                OpenBaWeights w = OpenBaWeights.zeros(openBa);
                w.forEach(openBa, filler(seed));
                yield new OpenBaModel(openBa, w);
            }
        };
    }

    /**
     * Writes {@code model} into {@code dir} in {@code dtype}, its config.json being {@code configFile}'s with every key the
     * model's config owns set from it (so an OpenBA config keeps its {@code ffn_hidden_size} and stays stock).
     */
    static void write(EncoderDecoder model, Path configFile, Path dir, DType dtype) {
        ObjectNode base = (ObjectNode) ConfigJson.read(configFile, "a Hugging Face config").node();
        switch (model) {
            case T5Model t5 -> T5HfFolder.write(t5, T5HfFolder.configJson(t5.config(), base, dtype), dir, dtype);
            case OpenBaModel openBa -> OpenBaHfFolder.write(openBa, OpenBaHfFolder.configJson(openBa.config(), base, dtype), dir, dtype);
        }
    }

    /**
     * Copies a T5-style tokenizer into {@code dir} under the names the encoder–decoder runs carry from folder to folder
     * ({@link Export#T5_FILES}): a folder's files of those names as they are; a single file under its own name when it is
     * one of them (else {@code spiece.model} or {@code tokenizer.json} by its kind), with a {@code tokenizer_config.json}
     * and {@code special_tokens_map.json} beside it (T5's sentinels).
     */
    static void copyTokenizer(Path tokenizer, Path dir) throws IOException {
        Path folder = Files.isDirectory(tokenizer) ? tokenizer : tokenizer.toAbsolutePath().getParent();
        for (String name : Export.T5_FILES) {
            Path from = folder.resolve(name);
            boolean wanted = Files.isDirectory(tokenizer) || List.of("tokenizer_config.json", "special_tokens_map.json").contains(name);
            if (wanted && Files.isRegularFile(from)) Files.copy(from, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        }
        if (Files.isDirectory(tokenizer)) return;
        String own = tokenizer.getFileName().toString();
        String name = Export.T5_FILES.contains(own) ? own : own.toLowerCase(Locale.ROOT).endsWith(".json") ? "tokenizer.json" : "spiece.model";
        Files.copy(tokenizer, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }

    /** Fills each visited tensor: a matrix from its own seeded stream, a vector with 0 when it is a bias and 1 when a norm's weight. */
    private static FolderWeights.Visitor filler(long seed) {
        long[] next = {seed};
        return (name, shape, values) -> {
            long tensorSeed = next[0]++;
            if (shape.length == 1) {
                Arrays.fill(values, name.endsWith(".bias") ? 0f : 1f);
                return;
            }
            int cols = shape[shape.length - 1], rows = values.length / cols;
            RandomTensor random = new RandomTensor(rows, cols, InitRun.STD, 0f, tensorSeed * 0x2545F4914F6CDD1DL);
            for (int r = 0; r < rows; r++) random.read(r, 0, cols, values, r * cols);
        };
    }
}
