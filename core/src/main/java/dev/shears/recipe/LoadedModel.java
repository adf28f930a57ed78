package dev.shears.recipe;

import dev.shears.model.Model;
import dev.shears.tokenizer.Tokenizer;

import java.nio.file.Path;

/**
 * A model with its tokenizer, as a command opened it: weights mapped from their files where the format
 * allows, so close it when done.
 *
 * @param model     weights and config
 * @param tokenizer the tokenizer found beside the model or given with {@code --tokenizer}
 * @param source    where the model came from
 * @param format    hf, gguf or llama2c
 */
public record LoadedModel(Model model, Tokenizer tokenizer, Path source, String format) implements AutoCloseable {
    /** Closes the model's mapped files. */
    @Override
    public void close() {
        model.close();
    }
}
