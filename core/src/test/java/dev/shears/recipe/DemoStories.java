package dev.shears.recipe;

import dev.shears.data.DataPreparer;
import dev.shears.data.PrepareOptions;
import dev.shears.demo.DemoCorpus;
import dev.shears.format.hf.HfModel;
import dev.shears.model.Architecture;
import dev.shears.model.ModelConfig;
import dev.shears.model.TinyModels;
import dev.shears.format.TokenizerLoader;
import dev.shears.format.llama2c.Llama2cTokenizerFile;
import dev.shears.progress.Progress;
import dev.shears.tokenizer.BpeTrainer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What the recipe tests train on: the demo's self-made corpus (seed 7, 400 stories), a 320-piece
 * llama2.c BPE tokenizer trained on it, and the corpus prepared with that tokenizer.
 *
 * @param tokenizer {@code tokenizer.bin} in the folder given to {@link #prepare}
 * @param data      the prepared corpus, the folder {@code stories}, which is also its domain name in a training mix
 */
record DemoStories(Path tokenizer, Path data) {
    static final int VOCAB = 320;

    /** Writes {@code tokenizer.bin}, {@code stories.txt} and the prepared {@code stories/} into {@code dir}. */
    static DemoStories prepare(Path dir) throws IOException {
        String text = DemoCorpus.generate(7, 400);
        Path tokenizer = dir.resolve("tokenizer.bin");
        Llama2cTokenizerFile.write(BpeTrainer.train(text, VOCAB), tokenizer);
        Path corpus = dir.resolve("stories.txt");
        Files.writeString(corpus, text);
        Path data = dir.resolve("stories");
        DataPreparer.prepare(TokenizerLoader.load(tokenizer), tokenizer.toString(), List.of(corpus), data, PrepareOptions.DEFAULT, Progress.SILENT);
        return new DemoStories(tokenizer, data);
    }

    /** A random parent of {@code layers} layers (4 heads over 2 kv heads of width 8, FFN 48, dim 32, untied) with this tokenizer, as {@code dir/parent}. */
    Path parent(Path dir, int layers) {
        Path parent = dir.resolve("parent");
        ModelConfig shape = ModelConfig.uniform(Architecture.LLAMA, 32, layers, 4, 2, 8, 48, VOCAB, 64, 1e-5f, 10000, false, false);
        HfModel.write(TinyModels.random(shape, 3), parent);
        try {
            Files.copy(tokenizer, parent.resolve("tokenizer.bin"));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return parent;
    }
}
