package dev.shears.tokenizer;

import dev.shears.ShearsException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** Finds and reads a tokenizer: {@code tokenizer.json}, {@code tokenizer.model} or llama2.c {@code tokenizer.bin}. */
public final class TokenizerLoader {
    private TokenizerLoader() {
    }

    public static Tokenizer load(Path path) {
        if (Files.isDirectory(path)) {
            for (String name : new String[] {"tokenizer.json", "tokenizer.model", "tokenizer.bin"}) {
                Path candidate = path.resolve(name);
                if (Files.isRegularFile(candidate)) return load(candidate);
            }
            throw new ShearsException(path + ": no tokenizer.json, tokenizer.model or tokenizer.bin here; pass --tokenizer FILE");
        }
        if (!Files.isRegularFile(path)) throw new ShearsException(path + ": no such tokenizer file");
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".bin")) return Llama2cTokenizer.read(path);
        throw new ShearsException(path + ": unsupported tokenizer file (expected tokenizer.json, tokenizer.model or a llama2.c .bin)");
    }
}
