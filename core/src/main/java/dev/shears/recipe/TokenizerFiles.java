package dev.shears.recipe;

import dev.shears.ShearsException;
import dev.shears.format.TokenizerLoader;
import dev.shears.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Optional;

/** Where a model's tokenizer lives: the standard file names beside the weights. */
final class TokenizerFiles {
    private TokenizerFiles() {
    }

    /** The tokenizer file in a model folder, or beside a single-file model. */
    static Optional<Path> find(Path model) {
        Path dir = Files.isDirectory(model) ? model : model.toAbsolutePath().getParent();
        for (String name : TokenizerLoader.NAMES) {
            if (Files.isRegularFile(dir.resolve(name))) return Optional.of(dir.resolve(name));
        }
        return Optional.empty();
    }

    /**
     * Copies a tokenizer file (and a {@code tokenizer_config.json} beside it) into a model folder under
     * its standard name, atomically; a folder is searched for its tokenizer file first.
     */
    static void copyInto(Path tokenizer, Path modelDir) {
        Path from = tokenizer;
        if (Files.isDirectory(from)) {
            Optional<Path> inside = find(from);
            if (inside.isEmpty()) return;
            from = inside.get();
        }
        Path to = modelDir.resolve(canonicalName(from));
        try {
            if (Files.exists(to) && Files.isSameFile(from, to)) return;
            Path tmp = Files.createTempFile(modelDir, "." + to.getFileName() + ".", ".tmp");
            Files.copy(from, tmp, StandardCopyOption.REPLACE_EXISTING);
            AtomicFiles.readableByAll(tmp);
            AtomicFiles.move(tmp, to);
            Path config = from.toAbsolutePath().getParent().resolve("tokenizer_config.json");
            Path configTo = modelDir.resolve("tokenizer_config.json");
            if (Files.isRegularFile(config) && !(Files.exists(configTo) && Files.isSameFile(config, configTo))) {
                Files.copy(config, configTo, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new ShearsException(to + ": cannot copy the tokenizer: " + e.getMessage(), e);
        }
    }

    /** The standard name a tokenizer file gets when copied into a model folder. */
    static String canonicalName(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".json")) return "tokenizer.json";
        if (name.endsWith(".model")) return "tokenizer.model";
        return "tokenizer.bin";
    }
}
