package dev.shears.recipe;

import dev.shears.ShearsException;
import dev.shears.eval.Perplexity;
import dev.shears.eval.PerplexityResult;
import dev.shears.progress.Progress;

import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
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
            String content = read(request.text(), request.limitChars());
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

    /** The largest text read whole: a bigger one needs {@code --limit-chars} (it would take days to score anyway). */
    public static final long MAX_TEXT_BYTES = 64L << 20;

    /**
     * The first {@code limitChars} characters of a UTF-8 text file (read no further), or the whole file
     * when it is at most {@link #MAX_TEXT_BYTES}; one line saying why not otherwise. Devices, pipes and
     * folders are refused: {@code /dev/zero} never ends.
     */
    public static String read(Path file, OptionalInt limitChars) {
        if (!Files.isRegularFile(file)) {
            throw new ShearsException(file + ": " + (Files.exists(file) ? "not a regular file (a device, pipe or folder); give a text file" : "cannot read: no such file"));
        }
        try {
            if (limitChars.isEmpty()) {
                long size = Files.size(file);
                if (size > MAX_TEXT_BYTES) {
                    throw new ShearsException(file + ": " + size + " bytes, more than the " + (MAX_TEXT_BYTES >> 20)
                            + " MiB read whole; pass --limit-chars N to score its beginning");
                }
                return read(file);
            }
            int limit = Math.max(0, limitChars.getAsInt());
            CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
            try (Reader in = new InputStreamReader(Files.newInputStream(file), utf8)) {
                StringBuilder text = new StringBuilder();
                char[] chunk = new char[1 << 16];
                for (int r; text.length() < limit && (r = in.read(chunk, 0, Math.min(chunk.length, limit - text.length()))) > 0; ) text.append(chunk, 0, r);
                return text.toString();
            }
        } catch (CharacterCodingException e) {
            throw new ShearsException(file + ": not valid UTF-8 text");
        } catch (IOException e) {
            throw new ShearsException(file + ": cannot read: " + e.getMessage());
        }
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
