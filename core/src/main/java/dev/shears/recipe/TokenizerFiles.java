package dev.shears.recipe;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/** Where a model's tokenizer lives: the standard file names beside the weights. */
final class TokenizerFiles {
    static final String[] NAMES = {"tokenizer.json", "tokenizer.model", "tokenizer.bin"};

    private TokenizerFiles() {
    }

    /** The tokenizer file in a model folder, or beside a single-file model. */
    static Optional<Path> find(Path model) {
        Path dir = Files.isDirectory(model) ? model : model.toAbsolutePath().getParent();
        for (String name : NAMES) {
            if (Files.isRegularFile(dir.resolve(name))) return Optional.of(dir.resolve(name));
        }
        return Optional.empty();
    }

    /** The standard name a tokenizer file gets when copied into a model folder. */
    static String canonicalName(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".json")) return "tokenizer.json";
        if (name.endsWith(".model")) return "tokenizer.model";
        return "tokenizer.bin";
    }
}
