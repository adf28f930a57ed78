package dev.shears.cli;

import dev.shears.recipe.LoadedModel;
import dev.shears.recipe.ModelSource;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.Optional;

/** MODEL and --tokenizer, shared by every command that reads a model. */
final class ModelOptions {
    @Parameters(index = "0", paramLabel = "MODEL", description = "A Hugging Face model folder, a .gguf file or a llama2.c .bin checkpoint.")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "tokenizer.json, tokenizer.model or a llama2.c tokenizer .bin (needed for llama2.c checkpoints; found beside the model otherwise).")
    Path tokenizer;

    LoadedModel open() {
        return ModelSource.open(model, Optional.ofNullable(tokenizer));
    }
}
