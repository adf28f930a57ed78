package dev.shears.recipe;

import dev.shears.format.ModelLoader;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;

/** {@code shears info}: a model's shape and storage from its headers alone (the weights stay unread in their files). */
public final class InfoRun {
    private InfoRun() {
    }

    /**
     * @param format             hf, gguf or llama2c
     * @param memoryDtype        the weights' encoding as they are used (their file's dtype when mapped)
     * @param weightBytes        the weights' size in that encoding
     * @param tokenizerVocabSize the tokenizer's, when one is given or found beside the model
     */
    public record Result(ModelConfig config, String format, String memoryDtype, long weightBytes, OptionalInt tokenizerVocabSize) {
    }

    public static Result run(Path model, Optional<Path> tokenizer) {
        ModelConfig config;
        String dtype;
        long bytes;
        try (Model opened = ModelLoader.open(model)) {
            config = opened.config();
            dtype = opened.weights().encoding().name().toLowerCase(Locale.ROOT);
            bytes = opened.weights().bytes();
        }
        OptionalInt vocab = ModelSource.tokenizer(model, tokenizer).map(t -> OptionalInt.of(t.vocabSize())).orElse(OptionalInt.empty());
        return new Result(config, ModelLoader.format(model), dtype, bytes, vocab);
    }
}
