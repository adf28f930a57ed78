package dev.shears.recipe;

import dev.shears.ShearsException;
import dev.shears.eval.Perplexity;
import dev.shears.eval.PerplexityResult;
import dev.shears.progress.Progress;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;

/** {@code shears perplexity}: rolling perplexity of a text file, as lm-evaluation-harness computes it, on mapped weights. */
public final class PerplexityRun {
    private PerplexityRun() {
    }

    /**
     * @param context    window length in tokens (default: the model's maximum context)
     * @param limitChars score only the first N characters of the text
     */
    public record Request(Path model, Optional<Path> tokenizer, Path text, OptionalInt context, OptionalInt limitChars) {
    }

    /** What the run will hold at its peak, from the model's headers and the request. */
    public static MemoryPlan plan(Request request) {
        try (LoadedModel loaded = ModelSource.open(request.model(), request.tokenizer())) {
            return plan(loaded, request);
        }
    }

    public static PerplexityResult run(Request request, Progress progress) {
        try (LoadedModel loaded = ModelSource.open(request.model(), request.tokenizer())) {
            String content = read(request.text());
            if (request.limitChars().isPresent()) content = content.substring(0, Math.min(content.length(), Math.max(0, request.limitChars().getAsInt())));
            plan(loaded, request).check();
            return Perplexity.evaluate(loaded.model(), loaded.tokenizer(), content, window(loaded, request), progress);
        }
    }

    private static int window(LoadedModel loaded, Request request) {
        return request.context().orElse(loaded.model().config().maxSeqLen());
    }

    private static MemoryPlan plan(LoadedModel loaded, Request request) {
        int window = window(loaded, request);
        return MemoryPlan.inference("perplexity with a context of " + window, loaded.model().config(), window, 0, loaded.model().weights().bytes());
    }

    /** A UTF-8 text file, or one line saying why not. */
    public static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (CharacterCodingException e) {
            throw new ShearsException(file + ": not valid UTF-8 text");
        } catch (IOException e) {
            throw new ShearsException(file + ": cannot read: " + (e instanceof NoSuchFileException ? "no such file" : e.getMessage()));
        }
    }
}
